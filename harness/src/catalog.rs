//! The scenario catalog built into the binary (build.rs): `scenarios/` as it was when the
//! binary was built. A folder or file under `scenarios/` that is not on disk is read from
//! here, so `oidc-harness run --rp my-rp.toml` works from any directory; one on disk
//! always wins (edit the catalog, or bring your own, in place).

use std::path::{Component, Path};

include!(concat!(env!("OUT_DIR"), "/catalog.rs"));

/// `path` as the catalog spells it (`scenarios/...`), when it is relative.
fn key(path: &Path) -> Option<String> {
    let mut parts = Vec::new();
    for c in path.components() {
        match c {
            Component::Normal(p) => parts.push(p.to_str()?),
            Component::CurDir => {}
            _ => return None,
        }
    }
    Some(parts.join("/"))
}

/// The built-in contents of `path`.
pub fn file(path: &Path) -> Option<&'static str> {
    let k = key(path)?;
    FILES.iter().find(|(p, _)| *p == k).map(|(_, text)| *text)
}

/// The built-in files under the folder `dir`, sorted.
pub fn under(dir: &Path) -> Vec<&'static str> {
    let Some(k) = key(dir) else {
        return Vec::new();
    };
    let prefix = format!("{}/", k.trim_end_matches('/'));
    FILES
        .iter()
        .map(|(p, _)| *p)
        .filter(|p| p.starts_with(&prefix))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalog_is_built_in_and_found_by_relative_path() {
        assert!(file(Path::new("scenarios/oidc-core/happy-path.toml")).is_some());
        assert!(file(Path::new("./scenarios/oidc-core/happy-path.toml")).is_some());
        assert!(file(Path::new("/scenarios/oidc-core/happy-path.toml")).is_none());
        let logout = under(Path::new("scenarios/logout"));
        assert!(!logout.is_empty() && logout.iter().all(|p| p.starts_with("scenarios/logout/")));
        assert!(VERSION.starts_with("catalog of "));
    }
}
