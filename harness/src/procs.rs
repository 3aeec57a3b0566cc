//! Stopping what the harness started, all of it: a process, its group, and every
//! descendant (Chromium's helpers, an RP's workers), even those that left the group.
//! Descendants are found in `/proc` before anything is killed, since a killed parent's
//! children are handed to init and can no longer be traced back.

use std::collections::HashMap;
use std::process::Stdio;

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

/// Sends `signal` (`-TERM`, `-KILL`) to the process group `pgid`.
pub fn signal_group(pgid: u32, signal: &str) {
    let _ = std::process::Command::new("kill")
        .args([signal, "--", &format!("-{pgid}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Kills `root`, its process group (when it leads one) and every descendant.
pub fn kill_tree(root: u32) {
    let mut all = descendants(root);
    all.push(root);
    signal_group(root, "-KILL");
    let ids: Vec<String> = all.iter().map(u32::to_string).collect();
    let _ = std::process::Command::new("kill")
        .arg("-KILL")
        .args(&ids)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_tree_is_found_and_killed() {
        // sh starts a sleep in the background (a grandchild) and waits.
        let mut child = std::process::Command::new("sh")
            .args(["-c", "sleep 30 & sleep 30 & wait"])
            .spawn()
            .unwrap();
        let root = child.id();
        let mut found = Vec::new();
        for _ in 0..50 {
            found = super::descendants(root);
            if found.len() >= 2 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert!(found.len() >= 2, "{found:?}");
        super::kill_tree(root);
        let _ = child.wait();
        std::thread::sleep(std::time::Duration::from_millis(100));
        for pid in found {
            let alive = std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .is_ok_and(|s| !s.contains(") Z "));
            assert!(!alive, "{pid} still runs");
        }
    }
}
