//! What /proc says: memory maps (for symbolization), TCP sockets
//! (`/proc/net/tcp{,6}`: the ground truth every report is checked against)
//! and which process holds which socket inode.

use std::collections::HashMap;
use std::fs;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};

/// One file-backed mapping of a process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    pub start: u64,
    pub end: u64,
    pub offset: u64,
    pub executable: bool,
    pub path: PathBuf,
}

/// Parses `/proc/PID/maps` text; anonymous and special (`[vdso]`, …)
/// mappings are skipped.
#[must_use]
pub fn parse_maps(text: &str) -> Vec<Mapping> {
    text.lines()
        .filter_map(|line| {
            let mut f = line.split_ascii_whitespace();
            let range = f.next()?;
            let perms = f.next()?;
            let offset = u64::from_str_radix(f.next()?, 16).ok()?;
            let _dev = f.next()?;
            let _inode = f.next()?;
            let path: Vec<&str> = f.collect();
            let path = path.join(" ");
            if !path.starts_with('/') {
                return None;
            }
            let (s, e) = range.split_once('-')?;
            Some(Mapping {
                start: u64::from_str_radix(s, 16).ok()?,
                end: u64::from_str_radix(e, 16).ok()?,
                offset,
                executable: perms.as_bytes().get(2) == Some(&b'x'),
                path: PathBuf::from(path.trim_end_matches(" (deleted)")),
            })
        })
        .collect()
}

pub fn read_maps(pid: u32) -> std::io::Result<Vec<Mapping>> {
    Ok(parse_maps(&fs::read_to_string(format!(
        "/proc/{pid}/maps"
    ))?))
}

/// A TCP socket as /proc/net/tcp{,6} lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpSocket {
    pub local: SocketAddr,
    pub remote: SocketAddr,
    pub state: u8,
    pub inode: u64,
}

fn parse_addr(s: &str) -> Option<SocketAddr> {
    let (ip, port) = s.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let ip = match ip.len() {
        8 => IpAddr::V4(Ipv4Addr::from(
            u32::from_str_radix(ip, 16).ok()?.to_ne_bytes(),
        )),
        32 => {
            let mut bytes = [0u8; 16];
            for (i, chunk) in bytes.chunks_mut(4).enumerate() {
                let word = u32::from_str_radix(ip.get(i * 8..i * 8 + 8)?, 16).ok()?;
                chunk.copy_from_slice(&word.to_ne_bytes());
            }
            IpAddr::V6(Ipv6Addr::from(bytes))
        }
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

/// Parses the text of /proc/net/tcp or /proc/net/tcp6.
#[must_use]
pub fn parse_net_tcp(text: &str) -> Vec<TcpSocket> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split_ascii_whitespace().collect();
            Some(TcpSocket {
                local: parse_addr(f.get(1)?)?,
                remote: parse_addr(f.get(2)?)?,
                state: u8::from_str_radix(f.get(3)?, 16).ok()?,
                inode: f.get(9)?.parse().ok()?,
            })
        })
        .collect()
}

/// All TCP sockets of the host's network namespace (the tracer's own).
#[must_use]
pub fn tcp_sockets() -> Vec<TcpSocket> {
    let mut all = Vec::new();
    for file in ["/proc/net/tcp", "/proc/net/tcp6"] {
        if let Ok(text) = fs::read_to_string(file) {
            all.extend(parse_net_tcp(&text));
        }
    }
    all
}

/// Socket inode → (pid, fd) of every process that holds it.
#[must_use]
pub fn socket_owners(pids: Option<&[u32]>) -> HashMap<u64, Vec<(u32, u32)>> {
    let mut owners: HashMap<u64, Vec<(u32, u32)>> = HashMap::new();
    let all: Vec<u32>;
    let pids = if let Some(p) = pids {
        p
    } else {
        all = fs::read_dir("/proc")
            .map(|d| {
                d.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                    .collect()
            })
            .unwrap_or_default();
        &all
    };
    for &pid in pids {
        let Ok(dir) = fs::read_dir(format!("/proc/{pid}/fd")) else {
            continue;
        };
        for entry in dir.flatten() {
            let Some(fd) = entry.file_name().to_str().and_then(|s| s.parse().ok()) else {
                continue;
            };
            let Ok(target) = fs::read_link(entry.path()) else {
                continue;
            };
            if let Some(inode) = target
                .to_str()
                .and_then(|t| t.strip_prefix("socket:["))
                .and_then(|t| t.strip_suffix(']'))
                .and_then(|t| t.parse().ok())
            {
                owners.entry(inode).or_default().push((pid, fd));
            }
        }
    }
    owners
}

#[must_use]
pub fn comm(pid: u32) -> Option<String> {
    fs::read_to_string(format!("/proc/{pid}/comm"))
        .ok()
        .map(|s| s.trim_end().to_owned())
}

#[must_use]
pub fn exists(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// Whether process `pid` still runs: some thread of it is neither a
/// zombie nor dead. An exited process its parent has not reaped yet keeps
/// its `/proc` entry (as a zombie, with its files closed), and a process
/// whose main thread exited while others run shows a zombie leader but is
/// alive.
#[must_use]
pub fn alive(pid: u32) -> bool {
    let Ok(tasks) = fs::read_dir(format!("/proc/{pid}/task")) else {
        return false;
    };
    tasks.flatten().any(|t| {
        fs::read_to_string(t.path().join("stat"))
            .ok()
            .and_then(|stat| {
                let rest = &stat[stat.rfind(')')? + 1..];
                rest.split_whitespace().next().map(str::to_owned)
            })
            .is_some_and(|state| !matches!(state.as_str(), "Z" | "X" | "x"))
    })
}

/// Where the root of the host's cgroup v2 hierarchy is mounted, or `None`.
/// Any `cgroup2` mount counts (`/sys/fs/cgroup` preferred) if its directory
/// is the hierarchy's root, which is the only cgroup without a
/// `cgroup.type` file: inside a private cgroup namespace the namespace's
/// own mount shows a subtree, a bind mount of the host's `/sys/fs/cgroup`
/// the whole.
#[must_use]
pub fn cgroup2_mount() -> Option<std::path::PathBuf> {
    let mountinfo = fs::read_to_string("/proc/self/mountinfo").ok()?;
    let mut mounts = parse_cgroup2_mounts(&mountinfo);
    mounts.sort_by_key(|m| m.as_os_str() != "/sys/fs/cgroup");
    mounts
        .into_iter()
        .find(|m| m.join("cgroup.procs").exists() && !m.join("cgroup.type").exists())
}

/// The mount points of `cgroup2` mounts, from /proc/PID/mountinfo text.
#[must_use]
pub fn parse_cgroup2_mounts(mountinfo: &str) -> Vec<std::path::PathBuf> {
    mountinfo
        .lines()
        .filter_map(|l| {
            let (mount, fs) = l.split_once(" - ")?;
            if fs.split_whitespace().next()? != "cgroup2" {
                return None;
            }
            // id parent major:minor root mount-point …
            let point = mount.split_whitespace().nth(4)?;
            Some(std::path::PathBuf::from(unescape_octal(point)))
        })
        .collect()
}

/// mountinfo escapes space, tab, newline and backslash as `\ooo`.
fn unescape_octal(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && let Some(v) = b
                .get(i + 1..i + 4)
                .and_then(|d| std::str::from_utf8(d).ok())
                .and_then(|d| u8::from_str_radix(d, 8).ok())
        {
            out.push(v);
            i += 4;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The cgroup v2 path of a process (`0::/path` in /proc/PID/cgroup), `/`
/// for the root.
#[must_use]
pub fn cgroup_of(pid: u32) -> Option<String> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
    text.lines().find_map(|l| l.strip_prefix("0::")).map(|p| {
        let p = p.trim_end_matches('/');
        if p.is_empty() {
            "/".to_owned()
        } else {
            p.to_owned()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_keep_file_backed_mappings() {
        let text = "55d0c0a00000-55d0c0a20000 r--p 00000000 fd:01 1234 /usr/bin/app\n\
                    55d0c0a20000-55d0c0b00000 r-xp 00020000 fd:01 1234 /usr/bin/app\n\
                    7ffd1000-7ffd2000 rw-p 00000000 00:00 0 [stack]\n\
                    7f0000000000-7f0000001000 r-xp 00001000 fd:01 99 /tmp/my lib.so (deleted)\n";
        let maps = parse_maps(text);
        assert_eq!(maps.len(), 3);
        assert!(maps[1].executable && !maps[0].executable);
        assert_eq!(maps[1].offset, 0x20000);
        assert_eq!(maps[2].path, PathBuf::from("/tmp/my lib.so"));
    }

    #[test]
    fn net_tcp_lines() {
        let v4 = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
           0: 0100007F:1F90 0100007F:C350 08 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 20 4 0 10 -1\n";
        let s = parse_net_tcp(v4);
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].local, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(s[0].remote, "127.0.0.1:50000".parse().unwrap());
        assert_eq!((s[0].state, s[0].inode), (8, 4242));
        let v6 = "header\n   0: 00000000000000000000000001000000:1F90 00000000000000000000000001000000:C350 01 00000000:00000000 00:00000000 00000000     0        0 77 1\n";
        let s = parse_net_tcp(v6);
        assert_eq!(s[0].local, "[::1]:8080".parse().unwrap());
        assert!(parse_net_tcp("h\n garbage line\n").is_empty());
    }

    #[test]
    fn cgroup2_mounts_only() {
        let text = "\
25 30 0:22 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate
26 30 0:22 /system.slice /mnt/svc rw - cgroup2 cgroup2 rw
27 30 0:23 / /sys/fs/cgroup/net_cls rw - cgroup cgroup rw,net_cls
28 30 0:22 / /mnt/with\\040space rw - cgroup2 cgroup2 rw
29 30 0:24 / /mnt/odd rw shared:1 - tmpfs tmpfs rw
";
        assert_eq!(
            parse_cgroup2_mounts(text),
            vec![
                std::path::PathBuf::from("/sys/fs/cgroup"),
                std::path::PathBuf::from("/mnt/svc"),
                std::path::PathBuf::from("/mnt/with space")
            ]
        );
        assert!(parse_cgroup2_mounts("garbage\n - \n\n").is_empty());
    }
}
