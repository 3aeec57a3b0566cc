//! Builds the scenario catalog into the binary: every `*.toml` under `scenarios/` (the
//! scenarios and the products' playbooks), so that `oidc-harness` runs from any directory
//! (src/catalog.rs), and a catalog version for `--version` (the number of scenario files
//! and a hash of their bytes).

use std::fmt::Write;
use std::path::{Path, PathBuf};

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|x| x == "toml") {
            out.push(p);
        }
    }
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest.join("..").join("scenarios");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    collect(&root, &mut files);
    files.sort();
    // FNV-1a over each file's path and bytes: the catalog's identity.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut scenarios = 0;
    let mut code = String::from(
        "/// The catalog's files: (path from the checkout, contents).\npub static FILES: &[(&str, &str)] = &[\n",
    );
    for f in &files {
        let rel = f.strip_prefix(manifest.join("..")).unwrap();
        let rel = rel.to_string_lossy().replace('\\', "/");
        let bytes = std::fs::read(f).unwrap();
        for b in rel.as_bytes().iter().chain(bytes.iter()) {
            hash ^= u64::from(*b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        if !rel.ends_with("/product.toml") {
            scenarios += 1;
        }
        writeln!(
            code,
            "    ({rel:?}, include_str!({:?})),",
            f.display().to_string()
        )
        .unwrap();
    }
    code.push_str("];\n");
    let catalog = format!("catalog of {scenarios} scenarios, {hash:016x}");
    writeln!(
        code,
        "/// The catalog's version.\npub const VERSION: &str = {catalog:?};"
    )
    .unwrap();
    let version = std::env::var("CARGO_PKG_VERSION").unwrap();
    writeln!(
        code,
        "/// What `--version` says.\npub const LONG_VERSION: &str = {:?};",
        format!("{version} ({catalog})")
    )
    .unwrap();
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("catalog.rs");
    std::fs::write(out, code).unwrap();
}
