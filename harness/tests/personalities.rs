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
    use harness::scenario::Capability;
    let catalog = catalog();
    // The scenarios about access rules, and a plain login, for the profiles with a rule.
    let about_access: Vec<_> = catalog
        .iter()
        .filter(|l| {
            l.scenario.id == "happy-path"
                || l.scenario
                    .requires
                    .iter()
                    .any(|c| matches!(c, Capability::Groups | Capability::HostedDomain))
        })
        .cloned()
        .collect();
    let mut problems = Vec::new();
    for p in Personality::ALL {
        let base = profile_text("", "sample-rp");
        let mut profiles = vec![
            ("back-channel", base.clone(), catalog.clone()),
            (
                "front-channel",
                base.replace("backchannel_logout_uri", "frontchannel_logout_uri")
                    .replace("/backchannel-logout", "/frontchannel-logout"),
                catalog.clone(),
            ),
        ];
        if p == Personality::Entra {
            // Through Entra's multi-tenant endpoint: the issuer template.
            profiles.push((
                "common",
                base.replace(
                    "capabilities = [",
                    "authorization_server = \"common\"\ncapabilities = [",
                ),
                catalog.clone(),
            ));
            // An app with its own signing key, its issuer given with `?appid=`.
            profiles.push((
                "app signing key",
                base.replace(
                    "capabilities = [",
                    "app_signing_key = true\ncapabilities = [",
                )
                .replace(
                    "ISSUER = \"{issuer}\"",
                    "ISSUER = \"{issuer}?appid={client_id}\"",
                ),
                catalog
                    .iter()
                    .filter(|l| {
                        l.scenario.id == "happy-path"
                            || l.scenario.requires.contains(&Capability::AppSigningKey)
                    })
                    .cloned()
                    .collect(),
            ));
        }
        // An RP that admits one group (Google sends none), or one Workspace domain.
        if p.groups_at().is_some() {
            profiles.push(("one group", with_group(&base), about_access.clone()));
        }
        if p == Personality::Google {
            profiles.push(("workspace", with_workspace(&base), about_access.clone()));
        }
        let mut ran = std::collections::BTreeSet::new();
        for (which, text, scenarios) in profiles {
            let all = scenarios.len() == catalog.len();
            let r = run(under(p, &text), scenarios, Options::default()).await;
            assert_eq!(r.idp, p);
            for s in &r.scenarios {
                if !matches!(s.verdict, Verdict::Pass | Verdict::Skip) {
                    problems.push(format!(
                        "{p} ({which}): {} {:?} {:?}",
                        s.id, s.verdict, s.notes
                    ));
                }
                if s.verdict != Verdict::Skip {
                    ran.insert(s.id.clone());
                }
            }
            let passed = r
                .scenarios
                .iter()
                .filter(|s| s.verdict == Verdict::Pass)
                .count();
            if all {
                assert!(passed >= 60, "{p} ({which}): only {passed} scenarios ran");
            } else {
                assert!(passed >= 2, "{p} ({which}): only {passed} scenarios ran");
            }
        }
        // The scenarios made for this IdP run under it, with one of the profiles.
        for l in catalog.iter().filter(|l| l.scenario.idps.contains(&p)) {
            if !ran.contains(&l.scenario.id) {
                problems.push(format!("{p}: its own {} never ran", l.scenario.id));
            }
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
