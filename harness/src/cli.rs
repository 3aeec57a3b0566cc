//! The `oidc-harness` command line.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::files::InputError;
use crate::outcome::OutcomeCode;
use crate::report::{self, FileSink, Format, RunReport, Sink, terminal::TerminalSink};
use crate::runner::{self, Options};
use crate::scenario::{self, Loaded};
use crate::verdict::Verdict;

/// Exit code: no failure (warnings and inconclusive scenarios allowed unless `--strict`
/// or `--fail-on` says otherwise).
pub const EXIT_OK: i32 = 0;
/// Exit code: the RP failed a scenario (fail, wrong-code; with --strict also warn and
/// inconclusive; or the verdicts of --fail-on).
pub const EXIT_RP_FAILED: i32 = 1;
/// Exit code: bad input (scenario, profile, tenant or report file; options).
pub const EXIT_BAD_INPUT: i32 = 2;
/// Exit code: the run was interrupted by SIGINT (Ctrl-C); the reports hold what finished.
pub const EXIT_SIGINT: i32 = 130;
/// Exit code: the run was interrupted by SIGTERM; the reports hold what finished.
pub const EXIT_SIGTERM: i32 = 143;
/// Exit code: the harness could not run (IdP or RP could not start, scenario errors).
pub const EXIT_COULD_NOT_RUN: i32 = 3;

/// `oidc-harness`: make an IdP misbehave on purpose and see what your relying party does.
#[derive(Parser, Debug)]
#[command(name = "oidc-harness", version = crate::catalog::LONG_VERSION, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run scenarios against a relying party and write reports.
    ///
    /// Starts the mock IdP, registers the RP's client, starts the RP when its profile
    /// says how, logs in once per scenario with one fault injected, and decides a verdict
    /// (pass, fail, wrong-code, warn, inconclusive, error, skip): a scenario passes only
    /// when its faults struck. Exit code 0 when nothing failed, 1 when the RP failed a
    /// scenario, 2 for bad input, 3 when the harness could not run (or a report could not
    /// be written).
    Run(RunArgs),
    /// List the scenario catalog (filter by outcome code, fault or suite).
    List(ListArgs),
    /// Serve the mock IdP (Okta on the wire, or another IdP with --personality) for a tenant
    /// until Ctrl-C.
    ///
    /// Prints the issuer URLs of the org server and every custom authorization server,
    /// the journal URL, and with --tls the CA file to trust. Point a relying party at
    /// an issuer and sign in with a user of the tenant.
    Idp(mock_idp::cli::IdpArgs),
    /// Run every scenario that should produce an outcome code, and show what the RP did,
    /// step by step.
    Reproduce(ReproduceArgs),
    /// Re-render or merge JSON reports (e.g. the partitions of a CI matrix).
    Report(ReportArgs),
    /// Provision a tenant's user (or group) at an app's SCIM 2.0 API, as Okta's
    /// provisioning client does, and print every request and answer.
    ///
    /// Starts the mock IdP with the tenant, sends the operation to the app (see
    /// docs/provisioning.md), and prints one journal line per request. Exit code 0 when
    /// the app accepted it, 1 when it refused or did not answer, 2 for bad input.
    Scim(ScimArgs),
    /// Print the JSON Schema of a file format (scenario, rp-profile, tenant, product), or
    /// write all four into a folder with --write.
    ///
    /// Editors that read JSON Schemas complete and check the TOML files with them (Taplo /
    /// Even Better TOML: a `#:schema ./rp-profile.schema.json` line at the top of a file,
    /// or a rule in `.taplo.toml`).
    Schema(SchemaArgs),
}

/// Options of `scim`.
#[derive(Args, Debug)]
pub struct ScimArgs {
    /// What to do: provision (create, or replace when the app has the user), deprovision
    /// (deactivate; --delete also deletes), push-group, or lookup (find users by userName).
    #[arg(value_parser = ["provision", "deprovision", "push-group", "lookup"])]
    pub op: String,
    /// The user's login or id in the tenant (the group's name for push-group; the
    /// userName for lookup).
    pub name: String,
    /// The app's SCIM base URL, e.g. http://127.0.0.1:8080/scim/v2.
    #[arg(long, value_name = "URL")]
    pub url: String,
    /// The Authorization header to send (e.g. "Bearer …"); never printed.
    #[arg(
        long,
        value_name = "HEADER",
        env = "OIDC_HARNESS_SCIM_AUTHORIZATION",
        hide_env_values = true
    )]
    pub authorization: Option<String>,
    /// The app has no PATCH: deactivate with a PUT of the whole user.
    #[arg(long)]
    pub no_patch: bool,
    /// Deprovisioning deletes the user after deactivating them.
    #[arg(long)]
    pub delete: bool,
    /// A provisioning fault to inject (repeatable): scim-duplicate-create,
    /// scim-retry-after-timeout, scim-email-omitted, scim-username-short.
    #[arg(long = "fault", value_name = "ID")]
    pub faults: Vec<String>,
    /// Tenant file (TOML, see docs/tenant-format.md). Default: the built-in fixture tenant.
    #[arg(long, value_name = "FILE")]
    pub tenant: Option<PathBuf>,
}

/// Options of `run`.
#[derive(Args, Debug)]
pub struct RunArgs {
    /// The RP profile (TOML, see docs/rp-profile.md).
    #[arg(long, value_name = "PROFILE")]
    pub rp: PathBuf,
    /// A folder of scenarios (repeatable; default: scenarios/ when no --scenario).
    #[arg(long, value_name = "DIR")]
    pub suite: Vec<PathBuf>,
    /// One scenario file (repeatable).
    #[arg(long, value_name = "FILE")]
    pub scenario: Vec<PathBuf>,
    /// Where reports go.
    #[arg(long, value_name = "DIR", default_value = "reports")]
    pub out: PathBuf,
    /// Report formats, comma-separated: json, junit, md, html.
    #[arg(long, value_name = "LIST", default_value = "json,junit,md,html")]
    pub format: String,
    /// Scenarios at once (default: the number of CPUs, at least 2). With 1, each step of
    /// the reports also keeps the RP's log lines it caused, at ~50 ms a scenario spent
    /// waiting for the RP's log to settle.
    #[arg(long, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub jobs: Option<usize>,
    /// Run slice K of N only (stable by scenario id), e.g. 2/4.
    #[arg(long, value_name = "K/N", value_parser = parse_partition)]
    pub partition: Option<(usize, usize)>,
    /// Seconds a scenario may take for each of its steps (default: the profile's).
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<u64>,
    /// Treat warnings and inconclusive scenarios as failures (exit code 1).
    #[arg(long)]
    pub strict: bool,
    /// The verdicts that make the run fail (exit code 1), comma-separated among fail,
    /// wrong-code, warn, inconclusive (default: fail,wrong-code).
    #[arg(long, value_name = "LIST", value_parser = parse_fail_on, conflicts_with = "strict")]
    pub fail_on: Option<FailOn>,
    /// How to play the browser (default: the profile's, else http).
    #[arg(long, value_enum)]
    pub driver: Option<crate::profile::Driver>,
    /// Which IdP the mock is: okta, entra, adfs, auth0, keycloak, google, cognito,
    /// pingfederate, pingone or generic (default: the profile's `idp`, else okta);
    /// suites made for other IdPs are skipped (docs/personalities.md).
    #[arg(long, value_name = "IDP")]
    pub idp: Option<mock_idp::Personality>,
    /// Run the scenarios of an OpenID Foundation certification plan for the RP's flows and
    /// say whether it would pass (repeatable), e.g.
    /// oidcc-client-basic-certification-test-plan; `oidc-harness list --plans` lists them.
    #[arg(long, value_name = "PLAN")]
    pub plan: Vec<String>,
}

/// Options of `schema`.
#[derive(Args, Debug)]
pub struct SchemaArgs {
    /// The format whose schema to print.
    #[arg(value_enum, required_unless_present = "write")]
    pub format: Option<crate::schema::Format>,
    /// Write every schema into this folder (as `<format>.schema.json`) instead.
    #[arg(long, value_name = "DIR", conflicts_with = "format")]
    pub write: Option<PathBuf>,
}

/// Options of `list`.
#[derive(Args, Debug)]
pub struct ListArgs {
    /// Folders of scenarios (default: scenarios/).
    #[arg(long, value_name = "DIR")]
    pub suite: Vec<PathBuf>,
    /// Only scenarios expecting this outcome code.
    #[arg(long)]
    pub code: Option<String>,
    /// Only scenarios injecting this fault.
    #[arg(long)]
    pub fault: Option<String>,
    /// List the OpenID Foundation plans `run --plan` knows instead, with their flows and
    /// the scenarios of each module.
    #[arg(long)]
    pub plans: bool,
    /// List a product's playbook instead: each error the product shows and the scenarios
    /// that reproduce it (scenarios/vendors/<product>/product.toml), e.g. databricks.
    #[arg(long, value_name = "PRODUCT")]
    pub product: Option<String>,
}

/// Options of `reproduce`.
#[derive(Args, Debug)]
pub struct ReproduceArgs {
    /// The outcome code, e.g. oidc_state_missing: every scenario that expects it runs
    /// (optional with --scenario). With --product, the product's own code or words (its
    /// playbook lists them).
    #[arg(required_unless_present = "scenario")]
    pub code: Option<String>,
    /// The product whose error this is (scenarios/vendors/<product>/product.toml), e.g.
    /// databricks.
    #[arg(long, value_name = "PRODUCT")]
    pub product: Option<String>,
    /// The RP profile.
    #[arg(long, value_name = "PROFILE")]
    pub rp: PathBuf,
    /// Folders of scenarios (default: scenarios/).
    #[arg(long, value_name = "DIR")]
    pub suite: Vec<PathBuf>,
    /// Run only this scenario (its id, e.g. state-mismatch; repeatable).
    #[arg(long, value_name = "ID")]
    pub scenario: Vec<String>,
    /// Where the reproduction's reports go (HTML, Markdown, JSON; the RP's log).
    #[arg(long, value_name = "DIR", default_value = "reports/reproduce")]
    pub out: PathBuf,
    /// Instead of playing it, leave the IdP running with the one chosen scenario's user
    /// and faults, so that you can click through the product by hand; prints what to try
    /// and each request the IdP answers, until Ctrl-C.
    #[arg(long)]
    pub interactive: bool,
}

/// Options of `report`.
#[derive(Args, Debug)]
pub struct ReportArgs {
    /// JSON reports to read (several are merged).
    #[arg(long = "in", value_name = "FILE", required = true)]
    pub inputs: Vec<PathBuf>,
    /// Where to write.
    #[arg(long, value_name = "DIR", default_value = "reports")]
    pub out: PathBuf,
    /// Formats, comma-separated: json, junit, md, html.
    #[arg(long, value_name = "LIST", default_value = "json,junit,md,html")]
    pub format: String,
    /// Instead of merging, write `matrix.md`: one row per scenario, one column per input
    /// report (e.g. one run per RP), and print it.
    #[arg(long)]
    pub matrix: bool,
}

fn parse_partition(s: &str) -> Result<(usize, usize), String> {
    let (k, n) = s.split_once('/').ok_or("expected K/N, e.g. 1/4")?;
    let k: usize = k
        .trim()
        .parse()
        .map_err(|_| format!("`{k}` is not a number"))?;
    let n: usize = n
        .trim()
        .parse()
        .map_err(|_| format!("`{n}` is not a number"))?;
    if n == 0 || k == 0 || k > n {
        return Err(format!("expected 1 <= K <= N (found {k}/{n})"));
    }
    Ok((k, n))
}

/// The verdicts given to `--fail-on`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailOn(pub Vec<Verdict>);

fn parse_fail_on(s: &str) -> Result<FailOn, String> {
    s.split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|v| match v {
            "fail" => Ok(Verdict::Fail),
            "wrong-code" => Ok(Verdict::WrongCode),
            "warn" => Ok(Verdict::Warn),
            "inconclusive" => Ok(Verdict::Inconclusive),
            other => Err(format!(
                "`{other}` is not a verdict that can fail a run (expected fail, wrong-code, warn, inconclusive)"
            )),
        })
        .collect::<Result<Vec<_>, _>>()
        .map(FailOn)
}

/// The verdicts that fail a run: the default, `--strict`'s, or a list.
pub fn failing_verdicts(strict: bool, list: Option<&[Verdict]>) -> Vec<Verdict> {
    match (list, strict) {
        (Some(l), _) => l.to_vec(),
        (None, true) => vec![
            Verdict::Fail,
            Verdict::WrongCode,
            Verdict::Warn,
            Verdict::Inconclusive,
        ],
        (None, false) => vec![Verdict::Fail, Verdict::WrongCode],
    }
}

fn formats(list: &str) -> Result<Vec<Format>, String> {
    list.split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| {
            Format::parse(s).ok_or_else(|| {
                format!(
                    "unknown report format `{}` (expected json, junit, md, html)",
                    s.trim()
                )
            })
        })
        .collect()
}

fn suites(dirs: &[PathBuf]) -> Vec<PathBuf> {
    if dirs.is_empty() {
        vec![PathBuf::from("scenarios")]
    } else {
        dirs.to_vec()
    }
}

/// Loads scenarios from folders and files, refusing duplicate ids.
pub fn load_scenarios(dirs: &[PathBuf], files: &[PathBuf]) -> Result<Vec<Loaded>, InputError> {
    let mut all = Vec::new();
    let dirs = if files.is_empty() {
        suites(dirs)
    } else {
        dirs.to_vec()
    };
    for d in &dirs {
        all.extend(scenario::load_dir(d)?);
    }
    for f in files {
        all.push(scenario::load_file(f)?);
    }
    scenario::check_unique(&all)?;
    Ok(all)
}

/// Product `id`'s playbook manifest under the scenario folders.
fn product_of(
    suites_given: &[PathBuf],
    id: &str,
    all: &[Loaded],
) -> Result<crate::product::Product, String> {
    let dirs = suites(suites_given);
    let Some(path) = crate::product::path_of(&dirs, id) else {
        let known = crate::product::known(&dirs);
        let hint = mock_idp::diag::did_you_mean(id, known.iter().map(String::as_str))
            .map(|s| format!("; did you mean `{s}`?"))
            .unwrap_or_default();
        return Err(format!(
            "no product `{id}` (expected one of: {}){hint}",
            if known.is_empty() {
                "none under vendors/".to_string()
            } else {
                known.join(", ")
            }
        ));
    };
    crate::product::load(&path, all).map_err(|e| e.to_string())
}

fn bad(e: impl std::fmt::Display) -> i32 {
    eprintln!("error: {e}");
    EXIT_BAD_INPUT
}

/// The exit code for a finished run, failing on the verdicts of `fail_on`
/// (see [`failing_verdicts`]).
pub fn exit_code(r: &RunReport, fail_on: &[Verdict]) -> i32 {
    let s = &r.summary;
    if fail_on.iter().any(|v| s.count(*v) > 0) {
        EXIT_RP_FAILED
    } else if s.error > 0 {
        EXIT_COULD_NOT_RUN
    } else {
        EXIT_OK
    }
}

/// Runs the parsed command; returns the process exit code.
pub async fn run(cli: Cli) -> i32 {
    match cli.command {
        Command::Idp(args) => match mock_idp::cli::run(args).await {
            Ok(()) => EXIT_OK,
            Err(e) => {
                eprintln!("error: {e}");
                e.exit_code()
            }
        },
        Command::Run(a) => run_cmd(a).await,
        Command::List(a) => list_cmd(a),
        Command::Reproduce(a) => reproduce_cmd(a).await,
        Command::Report(a) => report_cmd(a),
        Command::Scim(a) => scim_cmd(a).await,
        Command::Schema(a) => schema_cmd(a),
    }
}

async fn scim_cmd(a: ScimArgs) -> i32 {
    use mock_idp::scim::{ScimOp, ScimTarget};
    let tenant = match &a.tenant {
        Some(path) => match mock_idp::Tenant::from_file(path) {
            Ok(t) => t,
            Err(e) => return bad(e),
        },
        None => mock_idp::Tenant::fixture(),
    };
    if url::Url::parse(&a.url).is_err() {
        return bad(format!(
            "--url {}: not a URL (expected the SCIM base, e.g. http://127.0.0.1:8080/scim/v2)",
            a.url
        ));
    }
    let mut faults = Vec::new();
    for f in &a.faults {
        match f.parse::<mock_idp::FaultId>() {
            Ok(id) if id.strikes_at(mock_idp::Strikes::Provisioning) => faults.push(id),
            Ok(id) => {
                return bad(format!(
                    "--fault {id}: not a provisioning fault (expected one of {})",
                    mock_idp::Strikes::Provisioning
                        .faults()
                        .map(|f| f.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            Err(e) => return bad(format!("--fault: {e}")),
        }
    }
    let op = match a.op.as_str() {
        "provision" => ScimOp::Provision {
            user: a.name.clone(),
        },
        "deprovision" => ScimOp::Deprovision {
            user: a.name.clone(),
        },
        "push-group" => ScimOp::PushGroup {
            group: a.name.clone(),
        },
        _ => ScimOp::Lookup {
            user_name: a.name.clone(),
            user: None,
        },
    };
    let user_op = matches!(op, ScimOp::Provision { .. } | ScimOp::Deprovision { .. });
    if user_op && tenant.user(&a.name).is_none() {
        return bad(format!(
            "no user `{}` in the tenant{} (expected a login or id, e.g. {})",
            a.name,
            a.tenant
                .as_ref()
                .map(|p| format!(" {}", p.display()))
                .unwrap_or_default(),
            tenant
                .users
                .first()
                .map(|u| u.login.as_str())
                .unwrap_or("none")
        ));
    }
    let idp = match mock_idp::MockIdp::builder()
        .tenant(tenant)
        .addr("127.0.0.1:0".parse().expect("valid address"))
        .start()
        .await
    {
        Ok(i) => i,
        Err(e) => {
            eprintln!("error: the mock IdP could not start: {e}");
            return EXIT_COULD_NOT_RUN;
        }
    };
    let mut guards = Vec::new();
    for id in faults {
        let f = if user_op {
            mock_idp::Fault::new(id).for_user(a.name.clone())
        } else {
            mock_idp::Fault::new(id)
        };
        match idp.arm(f) {
            Ok(g) => guards.push(g),
            Err(e) => return bad(format!("--fault {id}: {e}")),
        }
    }
    let mut target = ScimTarget::new(&a.url);
    target.authorization = a.authorization.map(mock_idp::Secret::new);
    target.patch = !a.no_patch;
    target.delete = a.delete;
    let result = idp.scim(&target, &op).await;
    for e in idp
        .journal()
        .iter()
        .filter(|e| e.endpoint == Some(mock_idp::Endpoint::Scim))
    {
        println!("{}", crate::runner::trace::line(e));
    }
    drop(guards);
    match result {
        Ok(o) => {
            match (&op, o.id) {
                (ScimOp::Lookup { .. }, _) => println!(
                    "found {}: {}",
                    o.found.len(),
                    if o.found.is_empty() {
                        "none".to_string()
                    } else {
                        o.found.join(", ")
                    }
                ),
                (_, Some(id)) => println!("{} {}: id {id} at the app", a.op, a.name),
                (_, None) => println!("{} {}: the app does not have them", a.op, a.name),
            }
            if !o.skipped.is_empty() {
                println!("skipped (not users at the app): {}", o.skipped.join(", "));
            }
            EXIT_OK
        }
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_RP_FAILED
        }
    }
}

async fn run_cmd(a: RunArgs) -> i32 {
    let formats = match formats(&a.format) {
        Ok(f) => f,
        Err(e) => return bad(e),
    };
    let mut profile = match crate::profile::load(&a.rp) {
        Ok(p) => p,
        Err(e) => return bad(e),
    };
    if let Some(idp) = a.idp {
        profile.profile.idp = idp;
    }
    let mut scenarios = match load_scenarios(&a.suite, &a.scenario) {
        Ok(s) => s,
        Err(e) => return bad(e),
    };
    let mut plans = Vec::new();
    for id in &a.plan {
        match crate::oidf::plan(id) {
            Some(p) => plans.push(p),
            None => return bad(crate::oidf::unknown_plan(id)),
        }
    }
    if !plans.is_empty() {
        let p = &profile.profile;
        let applicable: Vec<_> = plans
            .iter()
            .filter(|pl| !pl.applicable(p).is_empty())
            .collect();
        if applicable.is_empty() {
            return bad(format!(
                "{}: the RP's profile uses {}; {}",
                a.rp.display(),
                p.flows_text(),
                plans
                    .iter()
                    .map(|pl| format!("{} is for {}", pl.id, pl.flows_text()))
                    .collect::<Vec<_>>()
                    .join("; ")
            ));
        }
        scenarios.retain(|l| plans.iter().any(|pl| pl.selects(p, &l.scenario)));
        eprintln!(
            "{} scenario(s) for {}",
            scenarios.len(),
            plans.iter().map(|pl| pl.id).collect::<Vec<_>>().join(", ")
        );
    }
    if !profile.checks_identity() {
        eprintln!(
            "warning: {}: no `[success] identity`, so a login counts as a success without checking who the RP shows signed in (docs/rp-profile.md)",
            a.rp.display()
        );
    }
    let mut sinks: Vec<Box<dyn Sink>> = vec![Box::new(TerminalSink::new())];
    for f in &formats {
        sinks.push(Box::new(FileSink {
            format: *f,
            dir: a.out.clone(),
            written: None,
        }));
    }
    let opts = Options {
        jobs: a.jobs.unwrap_or_else(|| Options::default().jobs),
        partition: a.partition,
        timeout: a.timeout.map(Duration::from_secs),
        user_password: None,
        driver: a.driver,
        out_dir: Some(a.out.clone()),
        handle_signals: true,
        plans,
    };
    let fail_on = failing_verdicts(a.strict, a.fail_on.as_ref().map(|f| f.0.as_slice()));
    match runner::run(profile, scenarios, &opts, &mut sinks).await {
        Ok(r) if r.interrupted.is_some() => {
            eprintln!("the RP's log: {}", a.out.join("rp.log").display());
            match r.interrupted.as_deref() {
                Some("SIGTERM") => EXIT_SIGTERM,
                _ => EXIT_SIGINT,
            }
        }
        Ok(r) => {
            eprintln!("the RP's log: {}", a.out.join("rp.log").display());
            if formats.contains(&Format::Html) {
                println!(
                    "HTML report: {}",
                    a.out.join(Format::Html.file_name()).display()
                );
            }
            let code = exit_code(&r, &fail_on);
            if code == EXIT_OK
                && r.plans
                    .iter()
                    .any(|p| p.verdict == crate::oidf::PlanVerdict::Fail)
            {
                // A plan fails on what the OpenID suite requires beyond the spec.
                return EXIT_RP_FAILED;
            }
            code
        }
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_COULD_NOT_RUN
        }
    }
}

fn schema_cmd(a: SchemaArgs) -> i32 {
    match (a.format, a.write) {
        (Some(f), _) => {
            print!("{}", f.text());
            EXIT_OK
        }
        (None, Some(dir)) => match crate::schema::write_all(&dir) {
            Ok(files) => {
                for f in files {
                    println!("{}", f.display());
                }
                EXIT_OK
            }
            Err(e) => {
                eprintln!("error: {}: {e}", dir.display());
                EXIT_COULD_NOT_RUN
            }
        },
        (None, None) => bad("name a format (scenario, rp-profile, tenant, product) or --write DIR"),
    }
}

fn list_cmd(a: ListArgs) -> i32 {
    let all = match load_scenarios(&a.suite, &[]) {
        Ok(s) => s,
        Err(e) => return bad(e),
    };
    if let Some(id) = &a.product {
        let p = match product_of(&a.suite, id, &all) {
            Ok(p) => p,
            Err(e) => return bad(e),
        };
        println!("{} (playbook: {})", p.name, p.playbook);
        if let Some(t) = &p.tenant {
            println!("  tenant:  {t}   (oidc-harness idp --tenant {t})");
        }
        if let Some(r) = &p.profile {
            println!("  profile: {r}");
        }
        let mut n = 0;
        for e in &p.errors {
            let ids: Vec<&str> = e
                .reproduced_by(&all)
                .iter()
                .map(|l| l.scenario.id.as_str())
                .collect();
            n += ids.len();
            println!("  {}: {}", e.says, e.symptom);
            match &e.profile {
                Some(r) => println!("      {}   (against {r})", ids.join(", ")),
                None => println!("      {}", ids.join(", ")),
            }
        }
        eprintln!("{} row(s), {n} scenario(s)", p.errors.len());
        return EXIT_OK;
    }
    if a.plans {
        for p in crate::oidf::PLANS {
            println!("{}\n  {}\n  flows: {}", p.id, p.title, p.flows_text());
            for v in p.variants {
                println!("  {} ({:?}):", v.response_type, v.mode);
                for m in v.modules {
                    let ids: Vec<&str> = all
                        .iter()
                        .map(|l| &l.scenario)
                        .filter(|s| {
                            s.oidf.modules.iter().any(|x| x == m)
                                && s.flow_set().contains(v.response_type)
                        })
                        .map(|s| s.id.as_str())
                        .collect();
                    println!(
                        "    {m:<62} {}",
                        if ids.is_empty() {
                            "(no scenario)".to_string()
                        } else {
                            ids.join(", ")
                        }
                    );
                }
            }
            println!();
        }
        eprintln!("{} plan(s)", crate::oidf::PLANS.len());
        return EXIT_OK;
    }
    let fault = match a
        .fault
        .as_deref()
        .map(str::parse::<mock_idp::FaultId>)
        .transpose()
    {
        Ok(f) => f,
        Err(e) => return bad(e),
    };
    let code = match a.code.as_deref().map(str::parse::<OutcomeCode>).transpose() {
        Ok(c) => c,
        Err(e) => return bad(e),
    };
    println!(
        "{:<16} {:<34} {:<45} FAULTS",
        "SUITE", "SCENARIO", "EXPECTS"
    );
    let mut n = 0;
    for l in &all {
        let s = &l.scenario;
        if code.is_some_and(|c| s.expect.code != Some(c))
            || fault.is_some_and(|f| !scenario::uses_fault(s, f))
        {
            continue;
        }
        let expects = crate::report::terminal::expected_text(&s.expect);
        let faults = s.fault_labels();
        println!(
            "{:<16} {:<34} {:<45} {}",
            s.suite_name(),
            s.id,
            expects,
            faults.join(", ")
        );
        n += 1;
    }
    eprintln!("{n} scenario(s)");
    EXIT_OK
}

async fn reproduce_cmd(a: ReproduceArgs) -> i32 {
    let all = match load_scenarios(&a.suite, &[]) {
        Ok(s) => s,
        Err(e) => return bad(e),
    };
    // A product's own words: the scenarios its playbook says reproduce them.
    let mut named = a.scenario.clone();
    let mut product_code = None;
    let code = match (&a.product, a.code.as_deref()) {
        (Some(id), Some(words)) => {
            let p = match product_of(&a.suite, id, &all) {
                Ok(p) => p,
                Err(e) => return bad(e),
            };
            let Some(err) = p.error(words) else {
                let said: Vec<&str> = p.errors.iter().map(|e| e.says.as_str()).collect();
                return bad(format!(
                    "{} shows no error `{words}` in its playbook (it lists: {})",
                    p.name,
                    said.join("; ")
                ));
            };
            println!("{}: {} ({})", p.name, err.says, err.symptom);
            named.extend(
                err.reproduced_by(&all)
                    .iter()
                    .map(|l| l.scenario.id.clone()),
            );
            product_code = Some(err.says.clone());
            None
        }
        (_, c) => match c.map(str::parse::<OutcomeCode>).transpose() {
            Ok(c) => c,
            Err(e) => return bad(e),
        },
    };
    let profile = match crate::profile::load(&a.rp) {
        Ok(p) => p,
        Err(e) => return bad(e),
    };
    for id in &a.scenario {
        if !all.iter().any(|l| l.scenario.id == *id) {
            let ids: Vec<&str> = all.iter().map(|l| l.scenario.id.as_str()).collect();
            let hint = mock_idp::diag::did_you_mean(id, ids.iter().copied())
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            return bad(format!("--scenario {id}: no such scenario{hint}"));
        }
    }
    let chosen: Vec<Loaded> = all
        .into_iter()
        .filter(|l| code.is_none_or(|c| l.scenario.expect.code == Some(c)))
        .filter(|l| named.is_empty() || named.contains(&l.scenario.id))
        .collect();
    if chosen.is_empty() {
        if let Some(c) = product_code {
            return bad(format!("no scenario reproduces `{c}`"));
        }
        return bad(match (&a.code, a.scenario.is_empty()) {
            (Some(c), true) => format!("no scenario expects `{c}`"),
            (Some(c), false) => format!(
                "none of the scenarios {} expects `{c}`",
                a.scenario.join(", ")
            ),
            (None, _) => "no scenario chosen".to_string(),
        });
    }
    if a.interactive {
        let [one] = chosen.as_slice() else {
            let ids: Vec<&str> = chosen.iter().map(|l| l.scenario.id.as_str()).collect();
            return bad(format!(
                "--interactive plays one scenario; {} match: {} (pick one with --scenario)",
                ids.len(),
                ids.join(", ")
            ));
        };
        return match runner::interactive(profile, &one.scenario).await {
            Ok(()) => EXIT_OK,
            Err(e) => {
                eprintln!("error: {e}");
                EXIT_COULD_NOT_RUN
            }
        };
    }
    let mut sinks: Vec<Box<dyn Sink>> = {
        let mut t = TerminalSink::new();
        t.summary = false;
        vec![Box::new(t)]
    };
    for f in [Format::Html, Format::Markdown, Format::Json] {
        sinks.push(Box::new(FileSink {
            format: f,
            dir: a.out.clone(),
            written: None,
        }));
    }
    // One scenario at a time: the RP's log lines of each step are then its own.
    let opts = Options {
        jobs: 1,
        out_dir: Some(a.out.clone()),
        ..Options::default()
    };
    let r = match runner::run(profile, chosen, &opts, &mut sinks).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_COULD_NOT_RUN;
        }
    };
    for s in &r.scenarios {
        print!("{}", reproduction(s));
    }
    println!(
        "\nreports: {} (and summary.md, report.json); the RP's whole log: {}",
        a.out.join(Format::Html.file_name()).display(),
        a.out.join("rp.log").display()
    );
    exit_code(&r, &failing_verdicts(false, None))
}

/// A scenario as a support engineer reads it: its faults, then step by step what went
/// over the wire (browser hops and the IdP's journal, in order) and what the RP logged,
/// then what the RP showed and why the verdict is what it is.
pub fn reproduction(s: &crate::report::ScenarioReport) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(out, "\n== {} ({}): {}", s.id, s.verdict.as_str(), s.title);
    let _ = writeln!(
        out,
        "   faults: {}",
        if s.faults.is_empty() {
            "none".into()
        } else {
            crate::report::terminal::struck_text(s)
        }
    );
    let mut any_log = false;
    for (st, msgs) in crate::report::html::by_step(s) {
        let _ = writeln!(
            out,
            "   step {} {}{}: {}",
            st.step,
            st.kind,
            if st.ok { "" } else { " (did not succeed)" },
            st.detail
        );
        for m in msgs {
            let _ = writeln!(out, "      {}", m.text());
        }
        for l in &st.log {
            any_log = true;
            let _ = writeln!(out, "      RP log: {l}");
        }
    }
    let _ = writeln!(
        out,
        "   RP showed: {} (status {}): {}",
        crate::report::terminal::observed_text(&s.observed),
        s.observed.status,
        s.observed.excerpt
    );
    if let Some(rule) = &s.observed.rule {
        let _ = writeln!(
            out,
            "   read by the profile's {} in the {}: «{}»",
            rule.rule, rule.on, rule.text
        );
    }
    for n in &s.notes {
        let _ = writeln!(out, "   note: {n}");
    }
    if !any_log {
        for l in s.rp_log.iter().rev().take(10).rev() {
            let _ = writeln!(out, "   RP log: {l}");
        }
    }
    out
}

fn report_cmd(a: ReportArgs) -> i32 {
    let formats = match formats(&a.format) {
        Ok(f) => f,
        Err(e) => return bad(e),
    };
    let mut reports = Vec::new();
    for p in &a.inputs {
        let text = match mock_idp::diag::read_input(p) {
            Ok(t) => t,
            Err(e) => return bad(format!("{}: cannot read: {e}", p.display())),
        };
        match serde_json::from_str::<RunReport>(&text) {
            Ok(r) => reports.push(r),
            Err(e) => {
                return bad(format!(
                    "{}:{}:{}: not an oidc-harness report: {e}",
                    p.display(),
                    e.line(),
                    e.column()
                ));
            }
        }
    }
    if a.matrix {
        let table = report::markdown::matrix(&reports);
        if let Err(e) = std::fs::create_dir_all(&a.out)
            .and_then(|()| mock_idp::cli::write_atomic(&a.out.join("matrix.md"), table.as_bytes()))
        {
            eprintln!(
                "error: cannot write {}: {e}",
                a.out.join("matrix.md").display()
            );
            return EXIT_COULD_NOT_RUN;
        }
        print!("{table}");
        return EXIT_OK;
    }
    let Some(merged) = report::merge(reports) else {
        return bad("no report given");
    };
    for f in formats {
        match report::write(&a.out, f, &merged) {
            Ok(path) => eprintln!("wrote {}", path.display()),
            Err(e) => {
                eprintln!("error: cannot write {}: {e}", a.out.display());
                return EXIT_COULD_NOT_RUN;
            }
        }
    }
    print!("{}", report::terminal::summary(&merged));
    exit_code(&merged, &failing_verdicts(false, None))
}
