//! One self-contained HTML file: the scenario matrix and, per scenario, its flow drawn
//! as a sequence diagram of browser, RP and IdP messages.

use mock_idp::Endpoint;

use super::terminal::{expected_text, observed_text, struck_text};
use super::{RunReport, ScenarioReport};
use crate::driver::Party;
use crate::verdict::{StepReport, Verdict};

fn esc(s: &str) -> String {
    mock_idp::errors::html_escape(s)
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2rem;color:#222}table{border-collapse:collapse;margin:1rem 0}\
td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left;vertical-align:top}th{background:#f3f3f3}\
.pass{background:#e6f6e6}.fail{background:#fbe3e3}.wrong-code{background:#fff0d9}.warn{background:#fffbd6}.inconclusive{background:#e3ecf8}.error{background:#f0e0f6}.skip{background:#eee}\
pre.log{background:#f7f7f7;padding:.4rem;max-height:16rem;overflow:auto;font-size:.8em}.struck-no{color:#a33}\
code{font-size:.9em}details{margin:.6rem 0;border:1px solid #ddd;padding:.4rem .8rem;border-radius:4px}summary{cursor:pointer}\
svg text{font-family:ui-monospace,monospace;font-size:11px}#matrix td:nth-child(2){white-space:nowrap}";

/// Renders the run as HTML (screenshots linked by their relative path).
pub fn render(r: &RunReport) -> String {
    render_in(r, None)
}

/// Renders the run as HTML, embedding the screenshots found under `dir`, so the file
/// stands alone.
pub fn render_in(r: &RunReport, dir: Option<&std::path::Path>) -> String {
    let s = &r.summary;
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>oidc-harness: {rp}</title><style>{STYLE}</style></head><body>\n\
         <h1>oidc-harness: {rp}</h1>\n<p>{idp}Issuer <code>{issuer}</code>, started {started}, {ms} ms. {total} scenario(s): {pass} pass, {fail} fail, {wc} wrong-code, {warn} warn, {error} error, {skip} skip.</p>\n{inconc}",
        rp = esc(&r.rp),
        issuer = esc(&r.issuer),
        idp = if r.idp == mock_idp::Personality::Okta {
            String::new()
        } else {
            format!(
                "The IdP: {} (personality <code>{}</code>). ",
                r.idp.title(),
                r.idp
            )
        },
        started = esc(&r.started_at),
        ms = r.duration_ms,
        total = s.total,
        pass = s.pass,
        fail = s.fail,
        wc = s.wrong_code,
        warn = s.warn,
        error = s.error,
        skip = s.skip,
        inconc = if s.inconclusive > 0 {
            format!(
                "<p><b>{} inconclusive</b>: ran, but did not test what they are about (never a pass).</p>\n",
                s.inconclusive
            )
        } else {
            String::new()
        }
    );
    if let Some(sig) = &r.interrupted {
        out.push_str(&format!(
            "<p><b>Interrupted by {}</b>: only the scenarios that finished before it are here.</p>\n",
            esc(sig)
        ));
    }
    for p in &r.plans {
        out.push_str(&format!(
            "<h2>Plan <code>{}</code>: {}</h2>\n<p>{}: {}.</p>\n",
            esc(&p.id),
            p.verdict.as_str(),
            esc(&p.title),
            esc(&p.summary)
        ));
        if !p.modules.is_empty() {
            out.push_str("<table class=\"plan\"><tr><th>module</th><th>flow</th><th>verdict</th><th>scenarios</th><th>notes</th></tr>\n");
            for m in &p.modules {
                out.push_str(&format!(
                    "<tr class=\"{v}\"><td><code>{}</code></td><td><code>{}</code></td><td>{v}</td><td>{}</td><td>{}</td></tr>\n",
                    esc(&m.module),
                    esc(&m.response_type),
                    esc(&m.scenarios.join(", ")),
                    esc(&m.notes.join("; ")),
                    v = m.verdict.as_str(),
                ));
            }
            out.push_str("</table>\n");
        }
    }
    out.push_str("<h2>Scenarios</h2>\n<table id=\"matrix\"><tr><th>suite</th><th>scenario</th><th>verdict</th><th>expected</th><th>observed</th><th>faults struck</th></tr>\n");
    for x in &r.scenarios {
        out.push_str(&format!(
            "<tr class=\"{v}\"><td>{suite}</td><td><a href=\"#s-{id}\">{id}</a></td><td>{v}</td><td>{exp}</td><td>{obs}</td><td>{faults}</td></tr>\n",
            v = x.verdict.as_str(),
            suite = esc(&x.suite),
            id = esc(&x.id),
            exp = esc(&expected_text(&x.expected)),
            obs = esc(&observed_text(&x.observed)),
            faults = esc(&struck_text(x))
        ));
    }
    out.push_str("</table>\n<h2>Flows</h2>\n");
    for x in &r.scenarios {
        out.push_str(&scenario(x, dir));
    }
    out.push_str("</body></html>\n");
    out
}

fn scenario(x: &ScenarioReport, dir: Option<&std::path::Path>) -> String {
    let mut out = format!(
        "<details id=\"s-{id}\" class=\"{v}\"{open}><summary><b>{id}</b> ({v}): {title}</summary>\n",
        id = esc(&x.id),
        v = x.verdict.as_str(),
        open = if matches!(
            x.verdict,
            Verdict::Fail | Verdict::WrongCode | Verdict::Error | Verdict::Inconclusive
        ) {
            " open"
        } else {
            ""
        },
        title = esc(&x.title)
    );
    if !x.references.is_empty() {
        out.push_str(&format!(
            "<p>References: {}</p>\n",
            esc(&x.references.join("; "))
        ));
    }
    for n in &x.notes {
        out.push_str(&format!("<p class=\"note\">{}</p>\n", esc(n)));
    }
    for h in &x.hardening {
        out.push_str(&format!(
            "<p class=\"hardening\">Hardening: {}</p>\n",
            esc(h)
        ));
    }
    if !x.struck.is_empty() {
        out.push_str("<p>Faults:</p><ul class=\"struck\">");
        for s in &x.struck {
            let (class, what) = if s.exercised {
                ("struck-yes", format!("struck {} time(s)", s.times))
            } else {
                (
                    "struck-no",
                    format!(
                        "never struck: {}",
                        s.missing.as_deref().unwrap_or("no evidence in the journal")
                    ),
                )
            };
            out.push_str(&format!(
                "<li class=\"{class}\"><code>{}</code> {}</li>",
                esc(&s.fault),
                esc(&what)
            ));
        }
        out.push_str("</ul>\n");
    }
    if x.steps.len() > 1 {
        out.push_str("<ol class=\"steps\">");
        for st in &x.steps {
            out.push_str(&format!(
                "<li><code>{}</code>{}: {}</li>",
                esc(&st.kind),
                if st.must_succeed {
                    if st.ok {
                        " (had to succeed, did)"
                    } else {
                        " (had to succeed, did not)"
                    }
                } else {
                    ""
                },
                esc(&st.detail)
            ));
        }
        out.push_str("</ol>\n");
    }
    if let Some(rule) = &x.observed.rule {
        out.push_str(&format!(
            "<p>The profile's <code>{}</code> matched in the {}: <q>{}</q></p>\n",
            esc(&rule.rule),
            esc(&rule.on),
            esc(&rule.text)
        ));
    }
    out.push_str(&format!(
        "<p>Ended at <code>{}</code> ({}): <q>{}</q></p>\n",
        esc(&x.observed.final_url),
        x.observed.status,
        esc(&x.observed.excerpt)
    ));
    if !x.findings.is_empty() {
        out.push_str("<ul class=\"findings\">");
        for f in &x.findings {
            out.push_str(&format!(
                "<li><code>{}</code> ({}): {}</li>",
                esc(f.id.as_str()),
                esc(f.severity.as_str()),
                esc(&f.detail)
            ));
        }
        out.push_str("</ul>\n");
    }
    let tokens: Vec<String> = x
        .trace
        .journal
        .iter()
        .filter_map(|e| {
            e.id_token.as_ref().map(|t| match e.endpoint {
                Some(Endpoint::BackchannelLogout) => format!(
                    "Logout token POSTed to the RP: {} {}",
                    t["header"], t["payload"]
                ),
                ep => format!("{:?} gave: {}", ep.unwrap_or(Endpoint::Token), t["payload"]),
            })
        })
        .collect();
    if !tokens.is_empty() {
        out.push_str(
            "<p>Tokens the IdP sent (decoded; signatures left out):</p><ul class=\"tokens\">",
        );
        for t in tokens {
            out.push_str(&format!("<li><code>{}</code></li>", esc(&t)));
        }
        out.push_str("</ul>\n");
    }
    out.push_str(&sequence(x));
    if !x.rp_log.is_empty() {
        out.push_str(&format!(
            "<p>What the RP printed meanwhile (other scenarios running at the same time may show too; all of it is in rp.log):</p><pre class=\"log\">{}</pre>\n",
            esc(&x.rp_log.join("\n"))
        ));
    }
    if let Some(rel) = &x.screenshot {
        let src = dir
            .and_then(|d| std::fs::read(d.join(rel)).ok())
            .map(|png| {
                format!(
                    "data:image/png;base64,{}",
                    base64::Engine::encode(&base64::engine::general_purpose::STANDARD, png)
                )
            })
            .unwrap_or_else(|| rel.clone());
        out.push_str(&format!("<p>The page the browser ended on:</p><img class=\"screenshot\" alt=\"screenshot of {id}\" src=\"{src}\" style=\"max-width:100%;border:1px solid #ccc\"/>\n", id = esc(&x.id), src = esc(&src)));
    }
    out.push_str("</details>\n");
    out
}

/// One message of a flow between Browser (0), RP (1) and IdP (2).
pub(crate) struct Msg {
    pub from: usize,
    pub to: usize,
    pub label: String,
}

impl Msg {
    /// `browser → RP: GET /login → 302`.
    pub(crate) fn text(&self) -> String {
        const PARTY: [&str; 3] = ["browser", "RP", "IdP"];
        format!("{} → {}: {}", PARTY[self.from], PARTY[self.to], self.label)
    }
}

/// The flow cut by step: each step with the messages sent during it (its browser hops
/// and the IdP's journal entries after it began, up to the next step). Reports written
/// before steps recorded where they began give one block, under the first step.
pub(crate) fn by_step(x: &ScenarioReport) -> Vec<(&StepReport, Vec<Msg>)> {
    let steps = &x.steps;
    let recorded = steps.iter().any(|s| s.seq_from > 0 || s.hops_from > 0);
    steps
        .iter()
        .enumerate()
        .map(|(i, st)| {
            let next = steps.get(i + 1).filter(|_| recorded);
            let hops_end = next.map_or(x.trace.hops.len(), |n| n.hops_from);
            let hops = if !recorded && i > 0 {
                &[][..]
            } else {
                &x.trace.hops[st.hops_from.min(hops_end)..hops_end.min(x.trace.hops.len())]
            };
            let journal: Vec<mock_idp::JournalEntry> = if !recorded && i > 0 {
                Vec::new()
            } else {
                x.trace
                    .journal
                    .iter()
                    .filter(|e| e.seq > st.seq_from && next.is_none_or(|n| e.seq <= n.seq_from))
                    .cloned()
                    .collect()
            };
            (st, messages(hops, &journal))
        })
        .collect()
}

fn path_of(url: &str) -> String {
    url::Url::parse(url)
        .map(|u| {
            let q = u
                .query()
                .map(|q| {
                    if q.len() > 40 {
                        format!("?{}…", &q[..40])
                    } else {
                        format!("?{q}")
                    }
                })
                .unwrap_or_default();
            format!("{}{q}", u.path())
        })
        .unwrap_or_else(|_| url.to_string())
}

/// The flow as messages between Browser (0), RP (1) and IdP (2): the browser's hops in
/// order, and the RP's back-channel requests (from the journal) before the hop that
/// follows them; the IdP's back-channel logout POSTs (journaled before the logout page
/// that sent them is answered) right after that page's request, IdP to RP.
pub(crate) fn messages(
    hops: &[crate::driver::Hop],
    journal: &[mock_idp::JournalEntry],
) -> Vec<Msg> {
    let front = |e: &mock_idp::JournalEntry| {
        matches!(
            e.endpoint,
            Some(Endpoint::Authorize | Endpoint::SignIn | Endpoint::Logout)
        )
    };
    let mut ordered: Vec<&mock_idp::JournalEntry> = Vec::new();
    let mut held = Vec::new();
    for e in journal {
        if e.endpoint == Some(Endpoint::BackchannelLogout) {
            held.push(e);
            continue;
        }
        ordered.push(e);
        if e.endpoint == Some(Endpoint::Logout) {
            ordered.append(&mut held);
        }
    }
    ordered.append(&mut held);
    let mut journal = ordered.into_iter().peekable();
    let mut out = Vec::new();
    let back =
        |out: &mut Vec<Msg>,
         until_front: bool,
         journal: &mut std::iter::Peekable<std::vec::IntoIter<&mock_idp::JournalEntry>>| {
            while let Some(e) = journal.peek() {
                if front(e) {
                    if until_front {
                        break;
                    }
                    journal.next();
                    continue;
                }
                let name = e
                    .endpoint
                    .map(|p| format!("{p:?}").to_lowercase())
                    .unwrap_or_else(|| "?".into());
                let faults = fault_list(e);
                let (from, to, label) = if e.endpoint == Some(Endpoint::BackchannelLogout) {
                    let answer = if e.status == 0 {
                        "no answer".to_string()
                    } else {
                        format!("RP answered {}", e.status)
                    };
                    (2, 1, format!("POST logout token → {answer}{faults}"))
                } else if e.endpoint == Some(Endpoint::Scim) {
                    (2, 1, scim_label(e, &faults))
                } else {
                    (1, 2, format!("{name} → {} {}{faults}", e.status, e.outcome))
                };
                out.push(Msg { from, to, label });
                journal.next();
            }
        };
    for hop in hops {
        // Provisioning between two steps: drawn before the browser's next request.
        while let Some(e) = journal.next_if(|e| e.endpoint == Some(Endpoint::Scim)) {
            out.push(Msg {
                from: 2,
                to: 1,
                label: scim_label(e, &fault_list(e)),
            });
        }
        let to = match hop.to {
            Party::Rp => 1,
            Party::Idp => 2,
            Party::Other => 1,
        };
        if to == 2 {
            back(&mut out, true, &mut journal);
            if journal.peek().is_some_and(|e| front(e)) {
                let e = journal.next().expect("peeked");
                let label = format!(
                    "{} {} → {}{}{}",
                    hop.method,
                    path_of(&hop.url),
                    hop.status,
                    if e.outcome != "ok" {
                        format!(" {}", e.outcome)
                    } else {
                        String::new()
                    },
                    if e.faults.is_empty() {
                        String::new()
                    } else {
                        format!(" [fault: {}]", e.faults.join(", "))
                    }
                );
                out.push(Msg { from: 0, to, label });
                // The logout tokens this page sent, before its answer reached the browser.
                if e.endpoint == Some(Endpoint::Logout) {
                    back(&mut out, true, &mut journal);
                }
                continue;
            }
        }
        let mut label = format!("{} {} → {}", hop.method, path_of(&hop.url), hop.status);
        if let Some(n) = &hop.note {
            label.push_str(&format!(" ({n})"));
        }
        out.push(Msg { from: 0, to, label });
        if to == 1 {
            back(&mut out, true, &mut journal);
        }
    }
    back(&mut out, false, &mut journal);
    out
}

/// ` [fault: …]` when the entry's answer was changed by faults.
fn fault_list(e: &mock_idp::JournalEntry) -> String {
    if e.faults.is_empty() {
        String::new()
    } else {
        format!(" [fault: {}]", e.faults.join(", "))
    }
}

/// A request of the IdP's SCIM client to the RP: `SCIM POST /Users → 201`.
fn scim_label(e: &mock_idp::JournalEntry, faults: &str) -> String {
    let answer = match (e.status, e.outcome.as_str()) {
        (0, o) => o.to_string(),
        (s, "ok") => s.to_string(),
        (s, o) => format!("{s} {o}"),
    };
    let shown = crate::runner::trace::scim_request(e.detail.as_deref().unwrap_or("?"));
    format!("SCIM {shown} → {answer}{faults}")
}

fn sequence(x: &ScenarioReport) -> String {
    let msgs = messages(&x.trace.hops, &x.trace.journal);
    let cols: [f64; 3] = [80.0, 420.0, 760.0];
    let height = 60 + msgs.len() * 28;
    let mut svg = format!(
        "<svg class=\"sequence\" width=\"860\" height=\"{height}\" viewBox=\"0 0 860 {height}\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"flow of {}\">\n",
        esc(&x.id)
    );
    svg.push_str("<defs><marker id=\"arrow\" markerWidth=\"8\" markerHeight=\"8\" refX=\"7\" refY=\"4\" orient=\"auto\"><path d=\"M0,0 L8,4 L0,8 z\" fill=\"#444\"/></marker></defs>\n");
    for (name, x0) in ["Browser", "RP", "IdP"].iter().zip(cols) {
        svg.push_str(&format!("<rect x=\"{}\" y=\"8\" width=\"80\" height=\"22\" fill=\"#eef\" stroke=\"#88a\"/><text x=\"{x0}\" y=\"23\" text-anchor=\"middle\">{name}</text>\n", x0 - 40.0));
        svg.push_str(&format!("<line x1=\"{x0}\" y1=\"30\" x2=\"{x0}\" y2=\"{height}\" stroke=\"#bbb\" stroke-dasharray=\"4 3\"/>\n"));
    }
    for (i, m) in msgs.iter().enumerate() {
        let y = 52 + i * 28;
        let (x1, x2) = (cols[m.from], cols[m.to]);
        svg.push_str(&format!(
            "<line x1=\"{x1}\" y1=\"{y}\" x2=\"{x2}\" y2=\"{y}\" stroke=\"#444\" marker-end=\"url(#arrow)\"/><text x=\"{}\" y=\"{}\">{}</text>\n",
            x1.min(x2) + 6.0,
            y - 5,
            esc(&m.label)
        ));
    }
    svg.push_str("</svg>\n");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;
    use mock_idp::JournalEntry;

    #[test]
    fn scim_requests_go_from_the_idp_to_the_rp_before_the_next_browser_request() {
        let s = crate::scenario::Scenario::parse(
            "x.toml",
            "id = \"x\"\ntitle = \"x\"\nreferences = [\"x\"]\n[expect]\nresult = \"accept\"\n",
        )
        .unwrap();
        let mut x =
            crate::runner::play::report_without_flow(&s, crate::verdict::Judgement::skip("x"), 0);
        let scim = |seq, detail: &str, status, outcome: &str, faults: &[&str]| JournalEntry {
            seq,
            endpoint: Some(Endpoint::Scim),
            detail: Some(detail.into()),
            status,
            outcome: outcome.into(),
            faults: faults.iter().map(|f| f.to_string()).collect(),
            ..JournalEntry::default()
        };
        x.trace.journal = vec![
            scim(
                1,
                "GET /Users?filter=userName+eq+%22a%40b.test%22&startIndex=1&count=100",
                200,
                "ok",
                &[],
            ),
            scim(
                2,
                "POST /Users",
                409,
                "scim_409_uniqueness",
                &["scim-duplicate-create"],
            ),
        ];
        x.trace.hops = vec![crate::driver::Hop {
            method: "GET".into(),
            url: "http://127.0.0.1:1/login".into(),
            status: 302,
            to: Party::Rp,
            location: None,
            cookies_set: vec![],
            note: None,
        }];
        let m = messages(&x.trace.hops, &x.trace.journal);
        let labels: Vec<(usize, usize, &str)> =
            m.iter().map(|m| (m.from, m.to, m.label.as_str())).collect();
        assert_eq!(
            labels,
            vec![
                (
                    2,
                    1,
                    "SCIM GET /Users?filter=userName eq \"a@b.test\" → 200"
                ),
                (
                    2,
                    1,
                    "SCIM POST /Users → 409 scim_409_uniqueness [fault: scim-duplicate-create]"
                ),
                (0, 1, "GET /login → 302"),
            ]
        );
    }
}
