//! The OpenID Foundation's RP tests against the catalog: every module of the plans that
//! `--plan` runs has a scenario for each of the plan's flows, every other module and old
//! test either has one or says why not, and `docs/oidf-coverage.md` is what the scenario
//! files say.

use std::path::PathBuf;

use harness::oidf::{MODULES, OLD_TESTS, PLANS};
use harness::scenario::{Scenario, load_dir};
use mock_idp::flows::ResponseMode;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn catalog() -> Vec<Scenario> {
    load_dir(&root().join("scenarios"))
        .expect("the catalog loads")
        .into_iter()
        .map(|l| l.scenario)
        .collect()
}

#[test]
fn every_module_of_every_plan_has_a_scenario_for_each_of_its_flows() {
    let all = catalog();
    let mut missing = Vec::new();
    for p in PLANS {
        for v in p.variants {
            for m in v.modules {
                // A module the harness says it cannot cover yet (and why) is reported so by
                // the plan run; the other test checks the reason is given.
                if harness::oidf::module(m).is_some_and(|m| m.gap.is_some()) {
                    continue;
                }
                let found = all.iter().any(|s| {
                    s.oidf.modules.iter().any(|x| x == m)
                        && s.flow_set().contains(v.response_type)
                        && s.modes().is_none_or(|modes| match v.mode {
                            harness::oidf::ModeRule::FormPost => {
                                modes.contains(&ResponseMode::FormPost)
                            }
                            harness::oidf::ModeRule::Default => {
                                modes.contains(&v.response_type.default_mode())
                            }
                            harness::oidf::ModeRule::Any => true,
                        })
                });
                if !found {
                    missing.push(format!("{} / {} / {m}", p.id, v.response_type));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "modules without a scenario for the plan's flow:\n{}",
        missing.join("\n")
    );
}

#[test]
fn every_module_and_old_test_has_a_scenario_or_says_why_not() {
    let all = catalog();
    for m in MODULES {
        let covered = all.iter().any(|s| s.oidf.modules.iter().any(|x| x == m.id));
        assert!(
            covered != m.gap.is_some(),
            "{}: {} (a module has a scenario, or a reason for having none, not both)",
            m.id,
            if covered {
                "covered, yet it gives a gap"
            } else {
                "neither covered nor explained"
            }
        );
    }
    for t in OLD_TESTS {
        let covered = all.iter().any(|s| s.oidf.old.iter().any(|x| x == t.id));
        assert!(
            covered != t.gap.is_some(),
            "{}: {}",
            t.id,
            if covered {
                "covered, yet it gives a gap"
            } else {
                "neither covered nor explained"
            }
        );
    }
    // Every module's old tests are known tests of the old suite.
    for m in MODULES {
        for o in m.old {
            assert!(
                OLD_TESTS.iter().any(|t| t.id == *o),
                "{}: unknown old test {o}",
                m.id
            );
        }
    }
}

#[test]
fn the_coverage_document_is_generated_from_the_scenarios() {
    let text = harness::oidf::coverage_markdown(&catalog());
    let path = root().join("docs/oidf-coverage.md");
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, &text).expect("writes the document");
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == text,
        "docs/oidf-coverage.md is stale: run `UPDATE_DOCS=1 cargo test -p harness --test oidf`"
    );
}
