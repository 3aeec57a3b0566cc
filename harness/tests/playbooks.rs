//! The products' playbooks (scenarios/vendors/<product>/product.toml) hold: every error
//! a playbook lists is reproduced by scenarios that exist, and the sample RP configured
//! like the product (the playbook's profile) passes them, each error with at least one
//! scenario that ran.

mod support;

use std::path::PathBuf;

use harness::runner::Options;
use harness::verdict::Verdict;
use support::*;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The playbook's profile, with the sample RP built for the tests instead of its `build`
/// and binary.
fn profile_of(path: &str) -> harness::profile::Compiled {
    let text = std::fs::read_to_string(root().join(path)).unwrap();
    let port = free_port();
    let old_port = text
        .split("login_url = \"http://127.0.0.1:")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .expect("a login_url on 127.0.0.1")
        .to_string();
    let start = text.find("command = [").expect("a start command");
    let end = start + text[start..].find('\n').unwrap();
    // The single-page RP runs from its folder; the sample RP is the test build.
    let command = if text[start..end].contains("../spa-rp/run.sh") {
        format!(
            "\"bash\", \"{}\"",
            root().join("fixtures/spa-rp/run.sh").display()
        )
    } else {
        format!("\"{}\"", sample_rp_bin().display())
    };
    let text = format!("{}command = [{command}]{}", &text[..start], &text[end..])
        .replace("cwd = \"../..\"\n", "")
        .lines()
        .filter(|l| !l.starts_with("build = "))
        .map(|l| format!("{l}\n"))
        .collect::<String>()
        .replace(
            &format!("127.0.0.1:{old_port}"),
            &format!("127.0.0.1:{port}"),
        )
        .replace(
            &format!("PORT = \"{old_port}\""),
            &format!("PORT = \"{port}\""),
        );
    harness::profile::parse(path, &text).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_playbook_reproduces_each_error_it_lists_against_its_stand_in() {
    let dirs = [root().join("scenarios")];
    let all = catalog();
    let products = harness::product::known(&dirs);
    assert!(products.contains(&"databricks".to_string()), "{products:?}");
    for id in products {
        let path = harness::product::path_of(&dirs, &id).unwrap();
        let p = harness::product::load(&path, &all).unwrap();
        assert!(root().join(&p.playbook).is_file(), "{id}: {}", p.playbook);
        if let Some(t) = &p.tenant {
            mock_idp::Tenant::from_file(&root().join(t)).unwrap_or_else(|e| panic!("{id}: {e}"));
        }
        let main = p.profile.as_deref().expect("a playbook names its profile");
        // Each stand-in runs the rows it shows (a row may name another one).
        let mut profiles: Vec<&str> = vec![main];
        for e in &p.errors {
            if let Some(r) = e.profile.as_deref().filter(|r| !profiles.contains(r)) {
                profiles.push(r);
            }
        }
        for profile in profiles {
            let rows: Vec<&harness::product::ProductError> = p
                .errors
                .iter()
                .filter(|e| e.profile.as_deref().unwrap_or(main) == profile)
                .collect();
            let mut ids: Vec<String> = Vec::new();
            for e in &rows {
                for l in e.reproduced_by(&all) {
                    if !ids.contains(&l.scenario.id) {
                        ids.push(l.scenario.id.clone());
                    }
                }
            }
            let chosen = all
                .iter()
                .filter(|l| ids.contains(&l.scenario.id))
                .cloned()
                .collect();
            let r = run(profile_of(profile), chosen, Options::default()).await;
            let bad: Vec<String> = r
                .scenarios
                .iter()
                .filter(|s| !matches!(s.verdict, Verdict::Pass | Verdict::Skip))
                .map(|s| format!("{} {}: {:?}", s.id, s.verdict.as_str(), s.notes))
                .collect();
            assert!(bad.is_empty(), "{id} against {profile}: {bad:#?}");
            for e in rows {
                let ran = e.reproduced_by(&all).iter().any(|l| {
                    r.scenarios
                        .iter()
                        .any(|s| s.id == l.scenario.id && s.verdict == Verdict::Pass)
                });
                assert!(
                    ran,
                    "{id}: no scenario reproduced `{}` against {profile}",
                    e.says
                );
            }
        }
    }
}
