//! Stopping what the harness started, all of it: a process, its group, and every
//! descendant (Chromium's helpers, an RP's workers), even those that left the group.
//! Descendants are found in `/proc` before anything is killed, since a killed parent's
//! children are handed to init and can no longer be traced back.

use std::collections::HashMap;

/// Every process id whose ancestry leads to `root` (not `root` itself).
pub fn descendants(root: u32) -> Vec<u32> {
    let mut parent_of: HashMap<u32, u32> = HashMap::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    for e in entries.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        if let Some(ppid) = parent(pid) {
            parent_of.insert(pid, ppid);
        }
    }
    let mut out = Vec::new();
    let mut frontier = vec![root];
    while let Some(p) = frontier.pop() {
        for (&child, &ppid) in &parent_of {
            if ppid == p && !out.contains(&child) && child != root {
                out.push(child);
                frontier.push(child);
            }
        }
    }
    out
}

/// The parent of `pid`, from `/proc/PID/stat` (the field after the command's closing
/// parenthesis and the state).
fn parent(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(1)?.parse().ok()
}

/// A signal the harness sends to what it started.
#[derive(Clone, Copy, Debug)]
pub enum Signal {
    /// Asks to stop: the RP may close its connections and flush its log.
    Term,
    /// Stops at once.
    Kill,
}

impl Signal {
    fn raw(self) -> rustix::process::Signal {
        match self {
            Signal::Term => rustix::process::Signal::TERM,
            Signal::Kill => rustix::process::Signal::KILL,
        }
    }
}

/// A process id as the kernel takes it; `None` for 0 and for ids above `i32::MAX`, which
/// the kernel would read as the caller's own group or, cast, as every process.
fn pid(id: u32) -> Option<rustix::process::Pid> {
    rustix::process::Pid::from_raw(i32::try_from(id).ok()?)
}

/// Sends `signal` to the process group `pgid`. Signalling is a system call, not a `kill`
/// program: a slim container may have none, and spawning it (three times for each stop
/// of the RP) was 2.6% of the catalog's CPU time. A group already gone is not an error.
pub fn signal_group(pgid: u32, signal: Signal) {
    if let Some(pgid) = pid(pgid) {
        let _ = rustix::process::kill_process_group(pgid, signal.raw());
    }
}

/// Kills `root`, its process group (when it leads one) and every descendant.
pub fn kill_tree(root: u32) {
    let mut all = descendants(root);
    all.push(root);
    signal_group(root, Signal::Kill);
    for id in all.into_iter().filter_map(pid) {
        let _ = rustix::process::kill_process(id, Signal::Kill.raw());
    }
}

#[cfg(test)]
mod tests {
    use super::{Signal, pid, signal_group};

    #[test]
    fn no_id_names_the_callers_group_or_every_process() {
        assert!(pid(0).is_none());
        assert!(pid(u32::MAX).is_none());
        assert!(pid(1 << 31).is_none());
        assert_eq!(pid(42).map(|p| p.as_raw_nonzero().get()), Some(42));
    }

    #[test]
    fn term_reaches_every_member_of_a_group() {
        let (mut child, found) = sh_and_two_sleeps(true);
        signal_group(child.id(), Signal::Term);
        let status = child.wait().unwrap();
        assert!(!status.success(), "{status:?}");
        for _ in 0..50 {
            if found.iter().all(|p| gone(*p)) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        for p in found {
            assert!(gone(p), "{p} still runs");
        }
    }

    /// `sh` starting two sleeps in the background (its children) and waiting, in a group
    /// of its own when `group`; with the sleeps' ids once `descendants` finds them.
    fn sh_and_two_sleeps(group: bool) -> (std::process::Child, Vec<u32>) {
        use std::os::unix::process::CommandExt;
        let mut sh = std::process::Command::new("sh");
        sh.args(["-c", "sleep 30 & sleep 30 & wait"]);
        if group {
            sh.process_group(0);
        }
        let child = sh.spawn().unwrap();
        let mut found = Vec::new();
        for _ in 0..50 {
            found = super::descendants(child.id());
            if found.len() >= 2 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert!(found.len() >= 2, "{found:?}");
        (child, found)
    }

    /// Whether `pid` has exited (a zombie has, though its parent has not reaped it).
    fn gone(pid: u32) -> bool {
        std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |s| s.contains(") Z "))
    }

    #[test]
    fn a_tree_is_found_and_killed() {
        let (mut child, found) = sh_and_two_sleeps(false);
        super::kill_tree(child.id());
        let _ = child.wait();
        std::thread::sleep(std::time::Duration::from_millis(100));
        for p in found {
            assert!(gone(p), "{p} still runs");
        }
    }
}
