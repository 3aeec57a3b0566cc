//! `docs/faults.md` is generated from the catalog: this test fails when they differ
//! (`UPDATE_DOCS=1` rewrites the file), and the admin API lists the same catalog.

use mock_idp::MockIdp;
use mock_idp::faults::{CATALOG, catalog};
use serde_json::Value;

use crate::common::{browser, get_json};

#[test]
fn faults_doc_matches_the_catalog() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/faults.md");
    let generated = catalog::markdown();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == generated,
        "docs/faults.md differs from the fault catalog; run `UPDATE_DOCS=1 cargo test -p mock-idp faults_doc`"
    );
    for doc in CATALOG {
        assert!(
            on_disk.contains(&format!("| `{}` |", doc.id)),
            "{} documented",
            doc.id
        );
    }
}

#[tokio::test]
async fn admin_api_lists_every_fault_with_its_docs() {
    let idp = MockIdp::start().await;
    let list: Value = get_json(&browser(), format!("{}/_harness/faults", idp.uri())).await;
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), CATALOG.len());
    for (row, doc) in list.iter().zip(CATALOG) {
        assert_eq!(row["id"], doc.id.as_str());
        assert_eq!(row["description"], doc.description);
        assert_eq!(row["style"], doc.style.as_str());
        assert_eq!(row["oidf_test"], serde_json::json!(doc.oidf_test));
        assert_eq!(row["okta_error"], serde_json::json!(doc.okta_error));
        assert_eq!(row["outcome"], serde_json::json!(doc.outcome));
    }
}
