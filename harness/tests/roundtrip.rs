//! Property: a scenario printed as TOML parses back to the same scenario.

use harness::outcome::OutcomeCode;
use harness::scenario::{
    Capability, Evidence, Expect, Oidf, Outcome, Scenario, Step, Strength, UserAgent, UserSpec,
};
use mock_idp::faults::{Fault, FaultId};
use proptest::prelude::*;

fn fault() -> impl Strategy<Value = Fault> {
    (
        prop::sample::select(FaultId::ALL.to_vec()),
        prop::option::of(1u32..5),
    )
        .prop_map(|(id, times)| {
            let mut f = Fault::new(id);
            f.times = times;
            f
        })
}

fn scenario() -> impl Strategy<Value = Scenario> {
    let steps = prop::collection::vec(
        prop::sample::select(vec![
            Step::Login,
            Step::Logout,
            Step::IdpLogout,
            Step::RotateKeys,
            Step::RotateKeysDropOld,
            Step::Refresh,
        ]),
        0..4,
    )
    .prop_map(|mut s| {
        s.push(Step::Login);
        s
    });
    let expect = (
        prop::sample::select(vec![
            Outcome::Accept,
            Outcome::Reject,
            Outcome::RejectOrIgnore,
        ]),
        prop::option::of(prop::sample::select(OutcomeCode::ALL.to_vec())),
        prop::sample::select(vec![Strength::Must, Strength::Should, Strength::May]),
        prop::option::of("[ -~]{1,40}"),
        prop::option::of(prop::sample::select(vec![200u16, 400])),
    )
        .prop_map(|(result, code, strength, fix, answer)| Expect {
            result,
            code: if result == Outcome::Accept {
                None
            } else {
                code
            },
            strength,
            fix,
            answer,
        });
    let ids = |all: Vec<&'static str>| {
        prop::collection::vec(
            prop::sample::select(all.into_iter().map(str::to_string).collect::<Vec<_>>()),
            0..3,
        )
    };
    let oidf = (
        ids(harness::oidf::MODULES.iter().map(|m| m.id).collect()),
        ids(harness::oidf::OLD_TESTS.iter().map(|t| t.id).collect()),
        prop::option::of("[ -~]{1,40}"),
        any::<bool>(),
    )
        .prop_map(|(modules, old, differs, strict)| Oidf {
            modules,
            old,
            differs,
            strict,
        });
    let user = (
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        prop::collection::vec("[A-Za-z][A-Za-z0-9 _-]{0,12}", 0..3),
        (
            any::<bool>(),
            prop::sample::select(vec![0u32, 3, 250]),
            any::<bool>(),
            any::<bool>(),
        ),
    )
        .prop_map(
            |(
                assigned,
                email,
                email_verified,
                groups,
                (in_required_group, extra_groups, managed, provisioned),
            )| {
                UserSpec {
                    assigned,
                    email,
                    email_verified,
                    groups,
                    in_required_group,
                    extra_groups,
                    managed,
                    provisioned,
                }
            },
        );
    let ua = (any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(a, b, c)| UserAgent {
        lose_rp_cookies: a,
        replay_callback: b,
        unsolicited_callback: c,
    });
    (
        "[a-z][a-z0-9-]{0,24}",
        "[ -~]{1,60}",
        prop::option::of("[a-z][a-z0-9-]{0,10}"),
        prop::collection::vec("[ -~]{0,40}", 0..3),
        user,
        prop::collection::vec(fault(), 0..4),
        ua,
        steps,
        expect,
        prop::collection::vec(
            prop::sample::select(vec![
                Evidence::NoUserinfoAfterReject,
                Evidence::SendsNonce,
                Evidence::UsesPkce,
                Evidence::SendsState,
                Evidence::SameRedirectUri,
                Evidence::RequestsClaimsByScope,
                Evidence::ReadsDiscovery,
            ]),
            0..3,
        ),
        prop::collection::vec(
            prop::sample::select(vec![
                Capability::Javascript,
                Capability::Logout,
                Capability::BackchannelLogout,
                Capability::FrontchannelLogout,
            ]),
            0..2,
        ),
    )
        .prop_flat_map(move |t| (Just(t), oidf.clone()))
        .prop_map(
            |(
                (
                    id,
                    title,
                    suite,
                    references,
                    user,
                    faults,
                    user_agent,
                    steps,
                    expect,
                    evidence,
                    requires,
                ),
                oidf,
            )| {
                // The access-rule user fields need the rule's capability.
                let mut requires = requires;
                for (set, c) in [
                    (
                        !user.in_required_group || user.extra_groups > 0,
                        Capability::Groups,
                    ),
                    (!user.managed, Capability::HostedDomain),
                    (!user.provisioned, Capability::Provisioning),
                    // Faults on the IdP's SCIM requests need the RP's SCIM API.
                    (
                        faults
                            .iter()
                            .any(|f| f.id.strikes_at(mock_idp::Strikes::Provisioning)),
                        Capability::Provisioning,
                    ),
                ] {
                    if set && !requires.contains(&c) {
                        requires.push(c);
                    }
                }
                Scenario {
                    id,
                    title,
                    suite,
                    references,
                    user,
                    faults,
                    user_agent,
                    steps,
                    expect,
                    evidence,
                    requires,
                    flows: None,
                    response_modes: None,
                    idps: vec![],
                    oidf,
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn scenarios_round_trip_through_toml(s in scenario()) {
        let text = s.to_toml();
        let back = Scenario::parse("generated.toml", &text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(back, s);
    }
}
