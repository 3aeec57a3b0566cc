//! Okta-shaped identifiers: `00u…` users, `0oa…` clients, `ID.`/`AT.` token ids.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

const ALPHANUM: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `n` random bytes from the operating system's generator (`getrandom(2)`). Not
/// aws-lc's: built outside this workspace, its first use may seed a jitter-entropy
/// collector for ~30 ms of CPU, which would stand between starting and the first answer
/// (signing seeds it off that path: see [`warm_up_signing_rng`]).
///
/// Small requests are served from a per-thread pool filled [`POOL`] bytes at a time, each
/// byte handed out once and zeroed as it goes: a login takes seven ids and would
/// otherwise make seven system calls for them.
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    fill_random(&mut buf);
    buf
}

/// How many bytes a thread's pool of randomness holds.
pub const POOL: usize = 4096;

fn fill_random(out: &mut [u8]) {
    // The system generator only fails when the OS has no entropy source at all.
    const FAILED: &str = "the operating system's random generator failed";
    if out.len() > POOL / 4 {
        getrandom::fill(out).expect(FAILED);
        return;
    }
    thread_local! {
        static POOLED: std::cell::RefCell<(Box<[u8; POOL]>, usize)> =
            std::cell::RefCell::new((Box::new([0; POOL]), POOL));
    }
    POOLED.with(|p| {
        let (bytes, used) = &mut *p.borrow_mut();
        if *used + out.len() > POOL {
            getrandom::fill(&mut bytes[..]).expect(FAILED);
            *used = 0;
        }
        let taken = &mut bytes[*used..*used + out.len()];
        out.copy_from_slice(taken);
        taken.fill(0);
        *used += out.len();
    });
}

/// Seeds aws-lc's generator (which RSA blinding uses) on a thread of its own, once per
/// process, so that the first token does not wait for it. Built in this workspace, aws-lc
/// seeds from the OS in microseconds (`.cargo/config.toml`); built elsewhere, as a
/// dependency of someone's tests, it may first collect CPU jitter for ~30 ms.
pub fn warm_up_signing_rng() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = std::thread::Builder::new()
            .name("rng-warm-up".into())
            .spawn(|| {
                let _ = aws_lc_rs::rand::fill(&mut [0u8; 1]);
            });
    });
}

/// A random base64url string of `bytes` bytes of entropy (32 bytes give 43 characters).
pub fn random_b64(bytes: usize) -> String {
    URL_SAFE_NO_PAD.encode(random_bytes(bytes))
}

fn alphanum_from(bytes: &[u8], len: usize) -> String {
    bytes
        .iter()
        .cycle()
        .take(len)
        .map(|b| ALPHANUM[(*b as usize) % ALPHANUM.len()] as char)
        .collect()
}

/// A random Okta id: `prefix` + 17 alphanumerics (`00u…`, `0oa…`, `oae…`).
pub fn random_okta_id(prefix: &str) -> String {
    format!("{prefix}{}", alphanum_from(&random_bytes(17), 17))
}

/// A stable Okta id derived from a name, so tenant files need not spell ids out and runs
/// stay reproducible: `stable_okta_id("00u", "alice@example.com")`.
pub fn stable_okta_id(prefix: &str, name: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, name.as_bytes());
    format!("{prefix}{}", alphanum_from(digest.as_ref(), 17))
}

/// A stable UUID-shaped id derived from a name (Keycloak, Cognito and Ping subjects,
/// Entra tenant ids): 8-4-4-4-12 lower-case hex digits.
pub fn stable_uuid(name: &str) -> String {
    uuid_from(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, name.as_bytes()).as_ref())
}

/// A random UUID-shaped id (version 4 layout).
pub fn random_uuid() -> String {
    let mut b = random_bytes(16);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    uuid_from(&b)
}

fn uuid_from(b: &[u8]) -> String {
    let h: String = b[..16].iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// `len` decimal digits derived from a name, not starting with 0 (Google's subjects).
pub fn stable_digits(name: &str, len: usize) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, name.as_bytes());
    let mut out: String = d
        .as_ref()
        .iter()
        .cycle()
        .take(len)
        .map(|b| char::from(b'0' + b % 10))
        .collect();
    if out.starts_with('0') {
        out.replace_range(..1, "1");
    }
    out
}

/// Lower-case hex of the SHA-256 of a name, `len` digits.
pub fn stable_hex(name: &str, len: usize) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, name.as_bytes());
    d.as_ref()
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect::<String>()
        .chars()
        .take(len)
        .collect()
}

/// A token id as Okta writes it: `ID.` or `AT.` + 43 base64url characters.
pub fn jti(prefix: &str) -> String {
    format!("{prefix}.{}", random_b64(32))
}

/// Okta's `errorId` on API errors: `oae` + 22 characters.
pub fn error_id() -> String {
    format!("oae{}", &random_b64(17)[..22])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_okta_shapes() {
        let u = random_okta_id("00u");
        assert_eq!(u.len(), 20);
        assert!(u.starts_with("00u"));
        assert_eq!(stable_okta_id("0oa", "x"), stable_okta_id("0oa", "x"));
        assert_ne!(stable_okta_id("0oa", "x"), stable_okta_id("0oa", "y"));
        let j = jti("ID");
        assert_eq!(j.len(), 46);
        assert!(j.starts_with("ID."));
        assert_eq!(error_id().len(), 25);
    }

    #[test]
    fn pooled_randomness_is_never_handed_out_twice() {
        // Sizes that do not divide the pool, so that draws meet its end part-way; a
        // byte handed out twice, or a zeroed byte handed out, repeats a draw.
        let mut seen = std::collections::HashSet::new();
        for i in 0..3000 {
            let n = [16, 17, 24, 32, 33][i % 5];
            let b = random_bytes(n);
            assert_eq!(b.len(), n);
            assert!(seen.insert(b), "draw {i} repeats an earlier one");
        }
        let large = random_bytes(POOL);
        assert!(large.iter().any(|b| *b != 0));
        assert_ne!(large, random_bytes(POOL));
    }
}
