//! The OpenID Foundation plans by name: the sample RP passes each plan in the flows the
//! HTTP driver plays (the fragment variants run through Chromium in browser.rs), and a
//! naive variant fails exactly the modules about the check it lacks.

mod support;

use harness::oidf::{ModuleVerdict, PlanReport, PlanVerdict};
use harness::runner::Options;
use support::*;

/// The sample RP's profile in a flow, with checks off and quirks on.
fn flow_profile(rt: &str, mode: Option<&str>, no_checks: &str) -> harness::profile::Compiled {
    let mut text = profile_text(no_checks, &format!("sample-rp {rt}"));
    let mut env = format!("[start.env]\nRESPONSE_TYPE = \"{rt}\"");
    let mut flow = format!("response_types = [\"{rt}\"]\n");
    if let Some(m) = mode {
        env.push_str(&format!("\nRESPONSE_MODE = \"{m}\""));
        flow.push_str(&format!("response_mode = \"{m}\"\n"));
    }
    text = text
        .replace("[start.env]", &env)
        .replace("capabilities = [", &format!("{flow}capabilities = ["));
    harness::profile::parse("plan.toml", &text).unwrap()
}

/// Runs a plan's scenarios against the RP of `profile`; the plan's report.
async fn run_plan(id: &str, profile: harness::profile::Compiled) -> PlanReport {
    let plan = harness::oidf::plan(id).expect("a known plan");
    let scenarios: Vec<_> = catalog()
        .into_iter()
        .filter(|l| plan.selects(&profile.profile, &l.scenario))
        .collect();
    assert!(!scenarios.is_empty(), "{id}: no scenario selected");
    let opts = Options {
        plans: vec![plan],
        ..Options::default()
    };
    let r = run(profile, scenarios, opts).await;
    r.plans.into_iter().next().expect("the plan's report")
}

fn not_passing(p: &PlanReport) -> Vec<String> {
    p.modules
        .iter()
        .filter(|m| m.verdict != ModuleVerdict::Pass)
        .map(|m| {
            format!(
                "{} [{}]: {:?} {:?}",
                m.module, m.response_type, m.verdict, m.notes
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sample_rp_passes_every_plan_in_the_flows_the_http_driver_plays() {
    let runs: &[(&str, &str, Option<&str>)] = &[
        ("oidcc-client-basic-certification-test-plan", "code", None),
        ("oidcc-client-config-certification-test-plan", "code", None),
        ("oidcc-client-refreshtoken-test-plan", "code", None),
        (
            "oidcc-client-formpost-basic-certification-test-plan",
            "code",
            Some("form_post"),
        ),
        (
            "oidcc-client-formpost-implicit-certification-test-plan",
            "id_token",
            Some("form_post"),
        ),
        (
            "oidcc-client-formpost-implicit-certification-test-plan",
            "id_token token",
            Some("form_post"),
        ),
        (
            "oidcc-client-formpost-hybrid-certification-test-plan",
            "code id_token",
            Some("form_post"),
        ),
        (
            "oidcc-client-formpost-hybrid-certification-test-plan",
            "code token",
            Some("form_post"),
        ),
        (
            "oidcc-client-formpost-hybrid-certification-test-plan",
            "code id_token token",
            Some("form_post"),
        ),
        (
            "oidcc-client-refreshtoken-test-plan",
            "code id_token",
            Some("form_post"),
        ),
    ];
    let mut problems = Vec::new();
    for (plan, rt, mode) in runs {
        let p = run_plan(plan, flow_profile(rt, *mode, "")).await;
        if p.verdict != PlanVerdict::Pass {
            problems.push(format!(
                "{plan} with {rt}: {} ({}): {:?}",
                p.verdict.as_str(),
                p.summary,
                not_passing(&p)
            ));
        }
        assert!(!p.modules.is_empty(), "{plan}: modules judged");
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Each naive variant fails its plan on exactly the modules about its missing check.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_naive_variant_fails_exactly_the_modules_about_its_check() {
    type Case<'a> = (&'a str, &'a str, Option<&'a str>, &'a str, &'a [&'a str]);
    let cases: &[Case] = &[
        (
            "oidcc-client-basic-certification-test-plan",
            "code",
            None,
            "iss",
            &["oidcc-client-test-invalid-iss"],
        ),
        (
            "oidcc-client-basic-certification-test-plan",
            "code",
            None,
            "userinfo-sub",
            &["oidcc-client-test-userinfo-invalid-sub"],
        ),
        (
            "oidcc-client-formpost-hybrid-certification-test-plan",
            "code id_token",
            Some("form_post"),
            "c-hash",
            &[
                "oidcc-client-test-invalid-chash",
                "oidcc-client-test-missing-chash",
            ],
        ),
        (
            "oidcc-client-formpost-implicit-certification-test-plan",
            "id_token token",
            Some("form_post"),
            "at-hash",
            &[
                "oidcc-client-test-invalid-athash",
                "oidcc-client-test-missing-athash",
            ],
        ),
        (
            "oidcc-client-refreshtoken-test-plan",
            "code",
            None,
            "refresh-iss",
            &["oidcc-client-test-refresh-token-invalid-issuer"],
        ),
    ];
    let mut problems = Vec::new();
    for (plan, rt, mode, check, want) in cases {
        let p = run_plan(plan, flow_profile(rt, *mode, check)).await;
        let mut failed: Vec<&str> = p
            .modules
            .iter()
            .filter(|m| m.verdict == ModuleVerdict::Fail)
            .map(|m| m.module.as_str())
            .collect();
        failed.sort_unstable();
        let mut want = want.to_vec();
        want.sort_unstable();
        if p.verdict != PlanVerdict::Fail || failed != want {
            problems.push(format!(
                "{plan} without {check}: {} ({}), failed {failed:?}, expected {want:?}; not passing: {:?}",
                p.verdict.as_str(),
                p.summary,
                not_passing(&p)
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A plan whose flows the RP does not use says so, and judges nothing.
#[test]
fn a_plan_for_other_flows_is_not_applicable() {
    let profile = flow_profile("code", None, "");
    let plan = harness::oidf::plan("oidcc-client-hybrid-certification-test-plan").unwrap();
    let catalog: Vec<_> = catalog().into_iter().map(|l| l.scenario).collect();
    let r = harness::oidf::evaluate(plan, &profile.profile, &catalog, &[]);
    assert_eq!(r.verdict, PlanVerdict::NotApplicable);
    assert!(r.summary.contains("`code` (query)"), "{}", r.summary);
    assert!(r.modules.is_empty());
    assert!(!catalog.iter().any(|s| plan.selects(&profile.profile, s)));
}

/// Nothing run, nothing passed: every module is undecided, and the plan says what stands
/// in the way.
#[test]
fn a_plan_with_nothing_run_is_undecided() {
    let profile = flow_profile("code", None, "");
    let plan = harness::oidf::plan("oidcc-client-basic-certification-test-plan").unwrap();
    let catalog: Vec<_> = catalog().into_iter().map(|l| l.scenario).collect();
    let r = harness::oidf::evaluate(plan, &profile.profile, &catalog, &[]);
    assert_eq!(r.verdict, PlanVerdict::Undecided, "{}", r.summary);
    assert!(
        r.modules
            .iter()
            .all(|m| m.verdict == ModuleVerdict::Undecided),
        "{:?}",
        r.modules
    );
}

/// An RP that refreshes by itself when its access token expired: with short-lived access
/// tokens, the refresh step waits them out and visits its home page, and the refresh plan
/// passes. The same RP that does not refresh: the step proves nothing, and the plan
/// cannot be decided.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn short_lived_access_tokens_make_an_rp_refresh_by_itself() {
    let profile = |quirks: &str| {
        let text = profile_text("", "sample-rp refreshing by itself");
        // Its home page needs a live access token (it renews an expired one).
        let line = text
            .lines()
            .find(|l| l.starts_with("refresh_url = "))
            .unwrap()
            .to_string();
        let home = line.replace("/refresh\"", "/\"");
        let text = text
            .replace(&line, &format!("access_token_lifetime_secs = 2\n{home}"))
            .replace(
                "[start.env]",
                &format!("[start.env]\nQUIRKS = \"{quirks}\""),
            );
        harness::profile::parse("refreshing.toml", &text).unwrap()
    };
    let p = run_plan(
        "oidcc-client-refreshtoken-test-plan",
        profile("refresh-on-expiry"),
    )
    .await;
    assert_eq!(
        p.verdict,
        PlanVerdict::Pass,
        "{}: {:?}",
        p.summary,
        not_passing(&p)
    );
    let p = run_plan("oidcc-client-refreshtoken-test-plan", profile("")).await;
    assert_eq!(p.verdict, PlanVerdict::Undecided, "{}", p.summary);
    assert!(
        p.modules.iter().any(|m| m
            .notes
            .iter()
            .any(|n| n.contains("no refresh_token request"))),
        "{:?}",
        p.modules
    );
}
