//! The whole catalog against the correct sample RP under every IdP personality: every
//! scenario passes or is skipped with the reason the IdP gives (an endpoint or a logout
//! channel it does not offer, a suite of another IdP), and each personality's own suite
//! runs under it. With the mutation check's personality variants, this proves the suites
//! both accept the right RP and catch the naive one.

mod support;

use harness::runner::Options;
use harness::verdict::Verdict;
use mock_idp::Personality;
use support::*;

fn under(idp: Personality, text: &str) -> harness::profile::Compiled {
    let text = text.replace(
        "capabilities = [",
        &format!("idp = \"{idp}\"\ncapabilities = ["),
    );
    harness::profile::parse("personality.toml", &text).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_correct_sample_rp_passes_the_catalog_under_every_personality() {
    let catalog = catalog();
    let mut problems = Vec::new();
    for p in Personality::ALL {
        let mut profiles = vec![
            ("back-channel", profile_text("", "sample-rp")),
            (
                "front-channel",
                profile_text("", "sample-rp")
                    .replace("backchannel_logout_uri", "frontchannel_logout_uri")
                    .replace("/backchannel-logout", "/frontchannel-logout"),
            ),
        ];
        if p == Personality::Entra {
            // Through Entra's multi-tenant endpoint: the issuer template.
            profiles.push((
                "common",
                profile_text("", "sample-rp").replace(
                    "capabilities = [",
                    "authorization_server = \"common\"\ncapabilities = [",
                ),
            ));
        }
        for (which, text) in profiles {
            let r = run(under(p, &text), catalog.clone(), Options::default()).await;
            assert_eq!(r.idp, p);
            for s in &r.scenarios {
                if !matches!(s.verdict, Verdict::Pass | Verdict::Skip) {
                    problems.push(format!(
                        "{p} ({which}): {} {:?} {:?}",
                        s.id, s.verdict, s.notes
                    ));
                }
                // The scenarios made for this IdP run under it.
                let own = catalog
                    .iter()
                    .find(|l| l.scenario.id == s.id)
                    .is_some_and(|l| l.scenario.idps.contains(&p));
                if own && s.verdict == Verdict::Skip {
                    problems.push(format!(
                        "{p} ({which}): its own {} was skipped: {:?}",
                        s.id, s.notes
                    ));
                }
            }
            let passed = r
                .scenarios
                .iter()
                .filter(|s| s.verdict == Verdict::Pass)
                .count();
            assert!(passed >= 60, "{p} ({which}): only {passed} scenarios ran");
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_personalities_with_a_suite_have_scenarios() {
    let catalog = catalog();
    for p in [
        Personality::Entra,
        Personality::Adfs,
        Personality::Auth0,
        Personality::Keycloak,
        Personality::Google,
        Personality::Cognito,
        Personality::Pingfederate,
        Personality::Pingone,
    ] {
        assert!(
            catalog.iter().any(|l| l.scenario.idps.contains(&p)),
            "no scenario is about {p}"
        );
    }
}
