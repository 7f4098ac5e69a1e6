//! `cargo xtask vm-test`: numa-tune's VM tests inside QEMU guests with
//! emulated NUMA topologies (../shared/VM.md), and in the 2node guest the
//! tracer's test on that kernel (Debian 6.1; the same eBPF object as on
//! the host).
//!
//! Installs QEMU, busybox-static and cpio from Debian when missing, unpacks
//! Debian's cloud kernel into `target/vm/kernel` (never touching /boot;
//! cached), builds the `vm` test binaries, govkit and the tracer's fixture programs, packs them with its shared libraries
//! and busybox into an initramfs per topology, boots each guest under TCG,
//! streams the console, and turns the guest's result markers into an exit
//! code. Every guest also runs the deliberately broken `canary` test, which
//! must fail: a harness that cannot see a failure proves nothing.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// A guest: name and the QEMU arguments that shape its NUMA topology.
struct Topology {
    name: &'static str,
    args: &'static [&'static str],
}

const TOPOLOGIES: &[Topology] = &[
    Topology {
        name: "2node",
        args: &[
            "-smp",
            "4,sockets=2,cores=2,threads=1",
            "-m",
            "1024M",
            "-object",
            "memory-backend-ram,id=m0,size=512M",
            "-object",
            "memory-backend-ram,id=m1,size=512M",
            "-numa",
            "node,nodeid=0,cpus=0-1,memdev=m0",
            "-numa",
            "node,nodeid=1,cpus=2-3,memdev=m1",
            "-numa",
            "dist,src=0,dst=1,val=21",
        ],
    },
    Topology {
        name: "4node",
        args: &[
            "-smp",
            "4,sockets=4,cores=1,threads=1",
            "-m",
            "1024M",
            "-object",
            "memory-backend-ram,id=m0,size=256M",
            "-object",
            "memory-backend-ram,id=m1,size=256M",
            "-object",
            "memory-backend-ram,id=m2,size=256M",
            "-object",
            "memory-backend-ram,id=m3,size=256M",
            "-numa",
            "node,nodeid=0,cpus=0,memdev=m0",
            "-numa",
            "node,nodeid=1,cpus=1,memdev=m1",
            "-numa",
            "node,nodeid=2,cpus=2,memdev=m2",
            "-numa",
            "node,nodeid=3,cpus=3,memdev=m3",
            "-numa",
            "dist,src=0,dst=1,val=21",
            "-numa",
            "dist,src=2,dst=3,val=21",
            "-numa",
            "dist,src=0,dst=2,val=31",
            "-numa",
            "dist,src=0,dst=3,val=31",
            "-numa",
            "dist,src=1,dst=2,val=31",
            "-numa",
            "dist,src=1,dst=3,val=31",
        ],
    },
    Topology {
        name: "memonly",
        args: &[
            "-smp",
            "4,sockets=2,cores=2,threads=1",
            "-m",
            "1536M",
            "-object",
            "memory-backend-ram,id=m0,size=512M",
            "-object",
            "memory-backend-ram,id=m1,size=512M",
            "-object",
            "memory-backend-ram,id=m2,size=512M",
            "-numa",
            "node,nodeid=0,cpus=0-1,memdev=m0",
            "-numa",
            "node,nodeid=1,cpus=2-3,memdev=m1",
            "-numa",
            "node,nodeid=2,memdev=m2",
            "-numa",
            "dist,src=0,dst=1,val=21",
            "-numa",
            "dist,src=0,dst=2,val=17",
            "-numa",
            "dist,src=1,dst=2,val=28",
        ],
    },
];

const BOOT_TIMEOUT: Duration = Duration::from_mins(10);

pub fn run(repo: &Path, args: &[&str]) -> anyhow::Result<()> {
    let mut wanted: Vec<&str> = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match *a {
            "--topology" => wanted.push(it.next().context("--topology needs a name")?),
            other => bail!(
                "unknown argument `{other}`; usage: cargo xtask vm-test [--topology 2node|4node|memonly]…"
            ),
        }
    }
    let selected: Vec<&Topology> = if wanted.is_empty() {
        TOPOLOGIES.iter().collect()
    } else {
        wanted
            .iter()
            .map(|w| {
                TOPOLOGIES
                    .iter()
                    .find(|t| t.name == *w)
                    .with_context(|| format!("unknown topology `{w}`"))
            })
            .collect::<anyhow::Result<_>>()?
    };
    let work = repo.join("target/vm");
    std::fs::create_dir_all(&work)?;
    install_tools()?;
    let kernel = kernel(&work)?;
    let test_bin = build_tests(repo, "numa-tune")?;
    let trace_bin = build_tests(repo, "tracebpf")?;
    let govkit_bin = build_govkit(repo)?;
    let leaker = build_fixture(repo, "leaker")?;
    let contend = build_fixture(repo, "contend")?;
    let start = Instant::now();
    let mut failures = Vec::new();
    for topo in &selected {
        let mut binaries = vec![
            (test_bin.as_path(), "vm-tests"),
            (govkit_bin.as_path(), "govkit"),
        ];
        // The tracer's test runs in the 2node guest only: its binaries make
        // the in-memory root ~60 MB bigger, which the 256 MB nodes of the
        // 4node guest cannot spare under MPOL_BIND (OOM kill seen in CI).
        let mut files = Vec::new();
        if topo.name == "2node" {
            binaries.push((trace_bin.as_path(), "trace-vm-tests"));
            binaries.push((leaker.as_path(), "leaker"));
            binaries.push((contend.as_path(), "contend"));
            files = diag_modules(&work)?;
        }
        let files: Vec<(&Path, &str)> = files.iter().map(|(p, n)| (p.as_path(), *n)).collect();
        let initrd = initramfs(&work, topo.name, &binaries, &files)?;
        let t0 = Instant::now();
        let (outcome, _) = boot(&kernel, &initrd, topo)?;
        let secs = t0.elapsed().as_secs_f64();
        report(&format!("vm-test {}: {outcome} ({secs:.1} s)", topo.name));
        if outcome != "pass" {
            failures.push(topo.name);
        }
    }
    report(&format!(
        "vm-test: {} guest(s) in {:.1} s, {} failed",
        selected.len(),
        start.elapsed().as_secs_f64(),
        failures.len()
    ));
    if !failures.is_empty() {
        bail!("failed in: {}", failures.join(", "));
    }
    Ok(())
}

#[expect(
    clippy::print_stdout,
    reason = "the suite's report for the developer's terminal"
)]
fn report(line: &str) {
    // govkit: allow(print-stdout) -- the suite's report goes to the developer's terminal
    println!("{line}");
}

fn sh(cmd: &mut Command) -> anyhow::Result<String> {
    let out = cmd
        .output()
        .with_context(|| format!("cannot run {cmd:?}"))?;
    if !out.status.success() {
        bail!("{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn install_tools() -> anyhow::Result<()> {
    let missing: Vec<&str> = [
        ("qemu-system-x86_64", "qemu-system-x86"),
        ("busybox", "busybox-static"),
        ("cpio", "cpio"),
    ]
    .into_iter()
    .filter(|(bin, _)| {
        Command::new("sh")
            .args(["-c", &format!("command -v {bin}")])
            .output()
            .map_or(true, |o| !o.status.success())
    })
    .map(|(_, pkg)| pkg)
    .collect();
    if !missing.is_empty() {
        sh(Command::new("apt-get").args(["update", "-q"]))?;
        sh(Command::new("apt-get")
            .args(["install", "-y", "-q"])
            .args(&missing))?;
    }
    Ok(())
}

/// Debian's cloud kernel unpacked under `work/kernel` (downloaded once).
fn kernel(work: &Path) -> anyhow::Result<PathBuf> {
    let dir = work.join("kernel");
    if let Some(found) = find_vmlinuz(&dir) {
        return Ok(found);
    }
    let dl = work.join("dl");
    std::fs::create_dir_all(&dl)?;
    let download = || -> anyhow::Result<()> {
        let deps = sh(Command::new("apt-cache").args(["depends", "linux-image-cloud-amd64"]))?;
        let package = deps
            .lines()
            .find_map(|l| l.trim().strip_prefix("Depends: linux-image-"))
            .map(|p| format!("linux-image-{p}"))
            .context("apt-cache names no linux-image package for linux-image-cloud-amd64")?;
        sh(Command::new("apt-get")
            .args(["download", &package])
            .current_dir(&dl))?;
        Ok(())
    };
    // Package lists from an earlier `apt-get update` name a kernel build
    // that the archive drops once a newer one is out: refresh and retry.
    if let Err(first) = download() {
        // govkit: allow(print-stderr) -- progress of a developer tool
        eprintln!("vm-test: {first:#}; running apt-get update and trying again");
        sh(Command::new("apt-get").args(["update", "-q"]))?;
        download()?;
    }
    let deb = std::fs::read_dir(&dl)?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "deb"))
        .context("apt-get download produced no .deb")?;
    sh(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&dir))?;
    find_vmlinuz(&dir).context("the kernel package has no boot/vmlinuz-*")
}

fn find_vmlinuz(dir: &Path) -> Option<PathBuf> {
    std::fs::read_dir(dir.join("boot"))
        .ok()?
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("vmlinuz-"))
        })
}

/// The cargo running this xtask.
fn cargo() -> std::ffi::OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

/// The `vm` integration-test executable of `package`.
fn build_tests(repo: &Path, package: &str) -> anyhow::Result<PathBuf> {
    let out = sh(Command::new(cargo())
        .args([
            "test", "-p", package, "--test", "vm", "--no-run", "--locked",
        ])
        .arg("--message-format=json")
        .current_dir(repo))?;
    out.lines()
        .filter(|l| l.contains("\"executable\":\"") && l.contains("\"name\":\"vm\""))
        .find_map(|l| {
            let at = l.find("\"executable\":\"")? + "\"executable\":\"".len();
            l[at..].split('"').next().map(PathBuf::from)
        })
        .with_context(|| format!("cargo built no `vm` test executable for {package}"))
}

/// Builds binary `bin` of `package` (debug or release); returns its path.
fn build_bin(repo: &Path, package: &str, bin: &str, release: bool) -> anyhow::Result<PathBuf> {
    let mut cmd = Command::new(cargo());
    cmd.args(["build", "-p", package, "--bin", bin, "--locked"]);
    if release {
        cmd.arg("--release");
    }
    sh(cmd.current_dir(repo))?;
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| repo.join("target"), PathBuf::from);
    Ok(target
        .join(if release { "release" } else { "debug" })
        .join(bin))
}

/// The govkit binary (debug build), for the tests that drive the CLI.
fn build_govkit(repo: &Path) -> anyhow::Result<PathBuf> {
    build_bin(repo, "govkit", "govkit", false)
}

/// A program of the trace tests' fixture crate (release: no frame pointers,
/// like services).
fn build_fixture(repo: &Path, bin: &str) -> anyhow::Result<PathBuf> {
    build_bin(repo, "trace-fixture", bin, true)
}

/// The guest kernel's `inet_diag` and `tcp_diag` modules (uncompressed
/// into `work/modules` when the package ships them compressed), for the
/// tracer's test to load halfway: before, the guest has no `sock_diag` for
/// TCP (the /proc paths are tested); after, the path that reads states from
/// `sock_diag` is tested on this kernel too.
fn diag_modules(work: &Path) -> anyhow::Result<Vec<(PathBuf, &'static str)>> {
    let out = work.join("modules");
    std::fs::create_dir_all(&out)?;
    let mut found = Vec::new();
    for (module, name) in [
        ("inet_diag", "modules/inet_diag.ko"),
        ("tcp_diag", "modules/tcp_diag.ko"),
    ] {
        let listed = sh(Command::new("find")
            .arg(work.join("kernel/lib/modules"))
            .args(["-name", &format!("{module}.ko*")]))?;
        let path = listed
            .lines()
            .next()
            .map(PathBuf::from)
            .with_context(|| format!("the guest kernel package has no {module} module"))?;
        let dest = out.join(format!("{module}.ko"));
        let decompress = match path.extension().and_then(|e| e.to_str()) {
            Some("ko") => "cat",
            Some("xz") => "xz -dc",
            Some("zst") => "zstd -dcq",
            _ => anyhow::bail!("{}: unknown module compression", path.display()),
        };
        sh(Command::new("sh").arg("-c").arg(format!(
            "{decompress} '{}' > '{}'",
            path.display(),
            dest.display()
        )))?;
        found.push((dest, name));
    }
    Ok(found)
}

/// An initramfs with busybox, the binaries and their libraries, `files`
/// as they are, and an /init that runs the tests and prints markers.
fn initramfs(
    work: &Path,
    topology: &str,
    binaries: &[(&Path, &str)],
    files: &[(&Path, &str)],
) -> anyhow::Result<PathBuf> {
    // The tracer's test (another kernel, same eBPF object) runs in one
    // guest: the topology does not matter to it and TCG is slow.
    let trace = if topology == "2node" {
        "/trace-vm-tests --ignored --test-threads=1\ntrace=$?\n"
    } else {
        ""
    };
    let body = format!(
        "export GOVKIT_VM_TOPOLOGY={topology} GOVKIT_BIN=/govkit GOVKIT_LEAKER=/leaker GOVKIT_CONTEND=/contend GOVKIT_DIAG_MODULES=/modules RUST_BACKTRACE=1 PATH=/bin\n\
         echo GOVKIT-VM-BEGIN\n\
         /vm-tests --ignored --test-threads=1 --skip canary\n\
         numa=$?\n\
         trace=0\n\
         {trace}\
         echo \"GOVKIT-VM-EXIT $((numa + trace))\"\n\
         GOVKIT_VM_CANARY=1 /vm-tests --ignored --exact canary\n\
         echo \"GOVKIT-VM-CANARY $?\"\n"
    );
    pack(work, topology, binaries, files, &body)
}

/// Packs busybox, the binaries and their libraries, and `files` as they are
/// into an initramfs whose /init mounts the usual file systems, runs `body`
/// (shell) and powers off.
fn pack(
    work: &Path,
    name: &str,
    binaries: &[(&Path, &str)],
    files: &[(&Path, &str)],
    body: &str,
) -> anyhow::Result<PathBuf> {
    let root = work.join(format!("root-{name}"));
    if root.exists() {
        std::fs::remove_dir_all(&root)?;
    }
    for d in ["bin", "proc", "sys", "dev", "tmp"] {
        std::fs::create_dir_all(root.join(d))?;
    }
    let busybox = sh(Command::new("sh").args(["-c", "command -v busybox"]))?;
    std::fs::copy(busybox.trim(), root.join("bin/busybox"))?;
    for (bin, name) in binaries {
        // The root is unpacked into guest RAM, and the debug builds are
        // mostly DWARF (govkit's is ~190 MB): without it the 256 MB nodes
        // of the 4node guest have room for the MPOL_BIND tests (an OOM kill
        // there was seen in CI). Symbols stay, for backtraces.
        let stripped = Command::new("strip")
            .arg("--strip-debug")
            .arg("-o")
            .arg(root.join(name))
            .arg(bin)
            .status()
            .is_ok_and(|s| s.success());
        if !stripped {
            std::fs::copy(bin, root.join(name))
                .with_context(|| format!("copying {}", bin.display()))?;
        }
        // The binaries are dynamic: copy what the loader will look for.
        let ldd = sh(Command::new("ldd").arg(bin))?;
        for lib in ldd.split_whitespace().filter(|w| w.starts_with('/')) {
            let dest = root.join(lib.trim_start_matches('/'));
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::copy(lib, &dest).with_context(|| format!("copying {lib}"))?;
        }
    }
    for (file, name) in files {
        let dest = root.join(name);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::copy(file, &dest).with_context(|| format!("copying {}", file.display()))?;
    }
    let init = format!(
        "#!/bin/busybox sh\n\
         /bin/busybox --install -s /bin\n\
         mount -t proc proc /proc\n\
         mount -t sysfs sysfs /sys\n\
         mount -t devtmpfs devtmpfs /dev\n\
         mkdir -p /sys/fs/cgroup && mount -t cgroup2 none /sys/fs/cgroup\n\
         ip link set lo up\n\
         {body}\
         poweroff -f\n"
    );
    let init_path = root.join("init");
    std::fs::write(&init_path, init)?;
    sh(Command::new("chmod").arg("755").arg(&init_path))?;
    let image = work.join(format!("initrd-{name}.gz"));
    sh(Command::new("sh").arg("-c").arg(format!(
        "cd '{}' && find . | cpio -o -H newc --quiet | gzip -1 > '{}'",
        root.display(),
        image.display()
    )))?;
    Ok(image)
}

/// Boots one guest; "pass", or what went wrong, and the console lines.
fn boot(kernel: &Path, initrd: &Path, topo: &Topology) -> anyhow::Result<(String, Vec<String>)> {
    let mut child = Command::new("qemu-system-x86_64")
        .args(["-machine", "q35", "-accel", "tcg", "-cpu", "max"])
        .args(topo.args)
        .arg("-kernel")
        .arg(kernel)
        .arg("-initrd")
        .arg(initrd)
        .args([
            "-append",
            "console=ttyS0 panic=-1 loglevel=4",
            "-nographic",
            "-no-reboot",
            "-nodefaults",
            "-serial",
            "stdio",
            "-net",
            "none",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("cannot start qemu-system-x86_64")?;
    let stdout = child.stdout.take().context("no console")?;
    // Bounded: the reader waits for us rather than buffering a runaway console.
    let (tx, rx) = std::sync::mpsc::sync_channel(1024);
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + BOOT_TIMEOUT;
    let (mut exit, mut canary) = (None, None);
    let mut console = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                report(&format!("[{}] {line}", topo.name));
                if let Some(code) = marker(&line, "GOVKIT-VM-EXIT ") {
                    exit = Some(code);
                }
                if let Some(code) = marker(&line, "GOVKIT-VM-CANARY ") {
                    canary = Some(code);
                }
                console.push(line);
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                // The guest is hung; the verdict is the timeout either way.
                if let Err(e) = child.kill().and_then(|()| child.wait().map(drop)) {
                    report(&format!("cannot stop qemu: {e}"));
                }
                return Ok((
                    format!("TIMEOUT after {} s (console above)", BOOT_TIMEOUT.as_secs()),
                    console,
                ));
            }
        }
    }
    child.wait().context("waiting for qemu")?;
    if reader.join().is_err() {
        bail!("the console reader panicked");
    }
    let verdict = match (exit, canary) {
        (Some(0), Some(c)) if c != 0 => "pass".to_owned(),
        (Some(0), Some(_)) => {
            "FAIL: the deliberately broken canary test passed, so the harness cannot be trusted"
                .to_owned()
        }
        (Some(code), _) => format!("FAIL: tests exited {code} (console above)"),
        (None, _) => {
            "FAIL: the guest never reported a result (boot failure? console above)".to_owned()
        }
    };
    Ok((verdict, console))
}

/// The exit code after a marker, matched anywhere in the line (QEMU wraps
/// the first lines in terminal escape codes).
fn marker(line: &str, prefix: &str) -> Option<i32> {
    let at = line.find(prefix)? + prefix.len();
    line[at..].split_whitespace().next()?.parse().ok()
}

/// A 2-CPU guest without NUMA, like the host, for the overhead bench.
const BENCH: Topology = Topology {
    name: "bench",
    args: &["-smp", "2", "-m", "1024M"],
};

/// `cargo xtask vm-bench-connections [--rounds N] [--secs S]`: the
/// connect/close overhead measurement of `scripts/trace-bench/overhead.sh`
/// on the guest's kernel (Debian 6.1), where `govkit trace connections`
/// takes accepted sockets from fexit on `inet_csk_accept` instead of the
/// syscall tracepoints this host's kernel forces. Alternates, in one boot:
/// untraced, govkit (`--hooks auto`: fexit there), govkit `--hooks
/// tracepoints`, and libbpf-tools `tcplife` when the host has it; prints
/// the median rates and their ratios to untraced, then govkit's per-program
/// BPF cost. Under TCG everything runs emulated, BPF programs included: the
/// ratios are indicative, not this host's figures.
pub fn bench_connections(repo: &Path, args: &[&str]) -> anyhow::Result<()> {
    let (mut rounds, mut secs) = (5u32, 3u32);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let value = |v: Option<&&str>| -> anyhow::Result<u32> {
            v.context("needs a number")?.parse().context("not a number")
        };
        match *a {
            "--rounds" => rounds = value(it.next()).context("--rounds")?,
            "--secs" => secs = value(it.next()).context("--secs")?,
            other => bail!(
                "unknown argument `{other}`; usage: cargo xtask vm-bench-connections [--rounds N] [--secs S]"
            ),
        }
    }
    let work = repo.join("target/vm");
    std::fs::create_dir_all(&work)?;
    install_tools()?;
    let kernel = kernel(&work)?;
    // Release, like the host's overhead script: the tracer's user-space side
    // runs during every traced round.
    let govkit = build_bin(repo, "govkit", "govkit", true)?;
    let connloop = build_fixture(repo, "connloop")?;
    let tcplife = PathBuf::from("/usr/sbin/tcplife");
    let mut binaries = vec![
        (govkit.as_path(), "govkit"),
        (connloop.as_path(), "connloop"),
    ];
    let mut variants = vec!["untraced", "govkit", "govkit-tracepoints"];
    if tcplife.exists() {
        binaries.push((tcplife.as_path(), "tcplife"));
        variants.push("tcplife");
    }
    let body = format!(
        "export PATH=/bin\n\
         sysctl -w net.ipv4.tcp_max_tw_buckets=0 >/dev/null\n\
         ready() {{ i=0; while ! grep -q \"$1\" /tmp/t.err 2>/dev/null; do i=$((i+1)); [ $i -gt 1200 ] && return 1; sleep 0.1; done; }}\n\
         run() {{\n\
           case $1 in\n\
           untraced) r=$(/connloop {secs}) ;;\n\
           govkit) /govkit trace connections --format json --min-age 1h >/tmp/g.json 2>/tmp/t.err & p=$!; ready 'tracing TCP'; r=$(/connloop {secs}); kill -INT $p; wait $p; cp /tmp/g.json /tmp/last.json ;;\n\
           govkit-tracepoints) /govkit trace connections --hooks tracepoints --format json --min-age 1h >/tmp/g.json 2>/tmp/t.err & p=$!; ready 'tracing TCP'; r=$(/connloop {secs}); kill -INT $p; wait $p ;;\n\
           tcplife) /tcplife >/dev/null 2>/tmp/t.err & p=$!; sleep 3; r=$(/connloop {secs}); kill -INT $p; wait $p ;;\n\
           esac\n\
           echo \"GOVKIT-BENCH $1 $r\"\n\
         }}\n\
         echo GOVKIT-VM-BEGIN\n\
         for i in $(seq {rounds}); do for v in {variants}; do run $v; done; done\n\
         echo \"GOVKIT-BENCH-HOOKS $(tr -d ' \\n' </tmp/last.json | grep -o '\"hooks\":[^]]*]')\"\n\
         /govkit trace connections --format json --min-age 1h --bpf-stats >/tmp/s.json 2>/tmp/t.err & p=$!; ready 'tracing TCP'; r=$(/connloop {secs}); kill -INT $p; wait $p\n\
         echo \"GOVKIT-BENCH-STATS $r conn/s $(tr -d ' \\n' </tmp/s.json | grep -o '\"programs\":[^]]*]')\"\n\
         echo GOVKIT-VM-EXIT 0\n\
         echo GOVKIT-VM-CANARY 1\n",
        variants = variants.join(" ")
    );
    let initrd = pack(&work, BENCH.name, &binaries, &[], &body)?;
    let (outcome, console) = boot(&kernel, &initrd, &BENCH)?;
    if outcome != "pass" {
        bail!("bench guest: {outcome}");
    }
    print_bench(&variants, &console);
    Ok(())
}

/// The bench's median rates per variant and their ratios to untraced (the
/// first variant), from the guest's `GOVKIT-BENCH name rate` lines.
fn print_bench(variants: &[&str], console: &[String]) {
    let mut rates: Vec<(&str, Vec<f64>)> = variants.iter().map(|v| (*v, Vec::new())).collect();
    for line in console {
        let Some(at) = line.find("GOVKIT-BENCH ") else {
            continue;
        };
        let mut f = line[at + "GOVKIT-BENCH ".len()..].split_whitespace();
        if let (Some(name), Some(Ok(rate))) = (f.next(), f.next().map(str::parse::<f64>))
            && let Some((_, v)) = rates.iter_mut().find(|(n, _)| *n == name)
        {
            v.push(rate);
        }
    }
    let median = |v: &[f64]| -> f64 {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(0.0)
    };
    let base = median(&rates[0].1);
    report(&format!(
        "{:20}{:>14}{:>8}   runs",
        "", "median conn/s", "ratio"
    ));
    for (name, v) in &rates {
        let m = median(v);
        let runs: Vec<String> = v.iter().map(|r| format!("{r:.0}")).collect();
        report(&format!(
            "{name:20}{m:14.0}{:8.3}   {}",
            if base > 0.0 { m / base } else { 0.0 },
            runs.join(" ")
        ));
    }
}
