//! Human-readable reports of both tracers (the CLI's `--format human` and
//! its live view); JSON is the reports' `Serialize` form.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use crate::connections::{Leak, Report};
use crate::frame::Frame;
use crate::sched::{Latency, SchedReport};

/// How the connections report is drawn.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    /// Stack lines shown per group (the live view shows few); a run of
    /// folded frames is one line.
    pub max_frames: usize,
    /// Every frame, instead of folding runs of library frames (std,
    /// runtime, libc, downloaded crates) into one line each.
    pub full_stacks: bool,
    /// The culprit's source lines, when its file is readable.
    pub code_frames: bool,
    /// ANSI colour.
    pub color: bool,
}

impl Style {
    /// The final report: whole stacks (folded), with code frames.
    #[must_use]
    pub fn report(full_stacks: bool, color: bool) -> Self {
        Style {
            max_frames: usize::MAX,
            full_stacks,
            code_frames: true,
            color,
        }
    }

    /// The live view: a few lines per group, no code frames.
    #[must_use]
    pub fn live(full_stacks: bool, color: bool) -> Self {
        Style {
            max_frames: 5,
            full_stacks,
            code_frames: false,
            color,
        }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
}

const BOLD: &str = "1";
const RED_BOLD: &str = "1;31";
const YELLOW: &str = "33";
const DIM: &str = "2";

/// The connections report for people: one header line, then each leak
/// group (numbered) with its culprit (the first frame of the user's own
/// code) and that line's source, up to three of its sockets and its
/// opening stack, library frames folded; notes on partial stacks name the
/// groups they concern. `min_age` and `idle` are the thresholds the report
/// was made with.
pub fn connections(
    out: &mut impl Write,
    r: &Report,
    min_age: Duration,
    idle: Option<Duration>,
    style: &Style,
) -> std::io::Result<()> {
    writeln!(
        out,
        "{} leak group(s), {} leaked socket(s) in CLOSE_WAIT for at least {:?}{}; traced {:.1}s, {} sockets tracked, lost events: {}",
        r.leaks.len(),
        r.leaks.iter().map(|l| l.count).sum::<usize>(),
        min_age,
        idle.map(|d| format!(" or ESTABLISHED and idle for at least {d:?}"))
            .unwrap_or_default(),
        r.duration_s,
        r.tracked_sockets,
        r.lost_events
    )?;
    let cwd = std::env::current_dir().unwrap_or_default();
    for (i, l) in r.leaks.iter().enumerate() {
        leak(out, i + 1, l, style, &cwd)?;
    }
    let partial: Vec<String> = r
        .leaks
        .iter()
        .enumerate()
        .filter(|(_, l)| !l.stack.is_empty() && !l.stack_complete)
        .map(|(i, _)| format!("#{}", i + 1))
        .collect();
    if !partial.is_empty() {
        let c = &r.counters;
        writeln!(
            out,
            "\n{} group(s) {} have a partial stack (each says why); over the trace, {} socket(s) were opened while their call site was being learned and {} once the capture budget was spent (raise --captures-per-sec)",
            style.paint(YELLOW, "note:"),
            partial.join(", "),
            c.captures_pending,
            c.captures_throttled
        )?;
    }
    Ok(())
}

fn leak(
    out: &mut impl Write,
    number: usize,
    l: &Leak,
    style: &Style,
    cwd: &Path,
) -> std::io::Result<()> {
    let header = format!(
        "#{number} {} socket(s) {} by pid {} ({}{}), {}: oldest {:.0}s old, {:.0}s {}",
        l.count,
        l.how_opened(),
        l.pid,
        l.comm,
        if l.cgroup.is_empty() || l.cgroup == "/" {
            String::new()
        } else {
            format!(", cgroup {}", l.cgroup)
        },
        l.state,
        l.oldest_age_s,
        l.oldest_in_state_s,
        if l.state == "ESTABLISHED" {
            "idle".to_owned()
        } else {
            format!("in {}", l.state)
        }
    );
    writeln!(out, "\n{}", style.paint(BOLD, &header))?;
    if let Some(c) = &l.culprit {
        let at = shown(&c.at, cwd);
        writeln!(
            out,
            "  {} {}",
            style.paint(RED_BOLD, "culprit:"),
            style.paint(BOLD, &at)
        )?;
        if c.at.function.is_none() {
            writeln!(
                out,
                "           (no symbol holds this address: symbolize it against the unstripped build, e.g. addr2line -fe BINARY OFFSET)"
            )?;
        }
        if style.code_frames
            && let (Some(file), Some(line)) = (&c.at.file, c.at.line)
        {
            code_frame(out, Path::new(file), line, style)?;
        }
    }
    for s in l.sockets.iter().take(3) {
        let fd = s.fd.map(|fd| format!(" (fd {fd})")).unwrap_or_default();
        writeln!(out, "    {} -> {}{fd}", s.local, s.remote)?;
    }
    if l.sockets.len() > 3 {
        writeln!(out, "    … {} more", l.sockets.len() - 3)?;
    }
    if !l.stack.is_empty() {
        writeln!(
            out,
            "  stack, innermost first{}:",
            if style.full_stacks {
                ""
            } else {
                " (library frames folded; --full-stacks shows them)"
            }
        )?;
    }
    let culprit = l.culprit.as_ref().map(|c| c.frame);
    let lines = stack_lines(&l.stack, culprit, style.full_stacks);
    let shown_lines = lines.len().min(style.max_frames);
    for line in &lines[..shown_lines] {
        match line {
            StackLine::Frame(i) if Some(*i) == culprit => {
                writeln!(
                    out,
                    "  {} {}",
                    style.paint(RED_BOLD, ">"),
                    style.paint(BOLD, &shown(&l.stack[*i], cwd))
                )?;
            }
            StackLine::Frame(i) => writeln!(out, "    {}", shown(&l.stack[*i], cwd))?,
            StackLine::Folded(n, libraries) => writeln!(
                out,
                "    {}",
                style.paint(DIM, &format!("[{n} frame(s) in {}]", libraries.join(", ")))
            )?,
        }
    }
    if lines.len() > shown_lines {
        writeln!(out, "    … {} more line(s)", lines.len() - shown_lines)?;
    }
    if let Some(note) = l.stack_note {
        let what = if l.stack.is_empty() {
            "no stack:"
        } else {
            "stack partial:"
        };
        writeln!(out, "  {} {note}", style.paint(YELLOW, what))?;
    }
    Ok(())
}

/// A line of a drawn stack: a frame (by index), or a run of folded library
/// frames (how many, which libraries).
#[derive(Debug, PartialEq, Eq)]
enum StackLine {
    Frame(usize),
    Folded(usize, Vec<String>),
}

/// The lines of `stack`: every frame with `full`, else runs of library
/// frames folded into one line each. The culprit is never folded.
fn stack_lines(stack: &[Frame], culprit: Option<usize>, full: bool) -> Vec<StackLine> {
    let mut lines = Vec::new();
    for (i, f) in stack.iter().enumerate() {
        match &f.library {
            Some(lib) if !full && Some(i) != culprit => {
                if let Some(StackLine::Folded(n, libs)) = lines.last_mut() {
                    *n += 1;
                    if !libs.contains(lib) {
                        libs.push(lib.clone());
                    }
                } else {
                    lines.push(StackLine::Folded(1, vec![lib.clone()]));
                }
            }
            _ => lines.push(StackLine::Frame(i)),
        }
    }
    lines
}

/// A frame as text, its source path relative to `cwd` when it is below it.
fn shown(f: &Frame, cwd: &Path) -> String {
    match &f.file {
        Some(file) if !cwd.as_os_str().is_empty() => match Path::new(file).strip_prefix(cwd) {
            Ok(rel) => Frame {
                file: Some(rel.display().to_string()),
                ..f.clone()
            }
            .to_string(),
            Err(_) => f.to_string(),
        },
        _ => f.to_string(),
    }
}

/// Lines `line - 2 ..= line + 2` of `file`, the culprit's line marked;
/// nothing when the file cannot be read (not on this host, or not text).
fn code_frame(out: &mut impl Write, file: &Path, line: u32, style: &Style) -> std::io::Result<()> {
    let Ok(text) = std::fs::read_to_string(file) else {
        return Ok(());
    };
    let line = line as usize;
    let first = line.saturating_sub(2).max(1);
    let width = (line + 2).to_string().len();
    for (n, text) in text.lines().enumerate().map(|(i, t)| (i + 1, t)) {
        if n < first {
            continue;
        }
        if n > line + 2 {
            break;
        }
        let number = format!("{n:>width$}");
        if n == line {
            writeln!(
                out,
                "  {} {} | {}",
                style.paint(RED_BOLD, ">"),
                style.paint(BOLD, &number),
                text
            )?;
        } else {
            writeln!(out, "    {} | {}", style.paint(DIM, &number), text)?;
        }
    }
    Ok(())
}

/// The scheduler report for people: the `top` processes with their
/// counters and latency histograms, then per-program costs.
pub fn sched(out: &mut impl Write, r: &SchedReport, top: usize) -> std::io::Result<()> {
    writeln!(
        out,
        "{} process(es) over {:.1}s, {} scheduler events, lost events: {}",
        r.processes.len(),
        r.duration_s,
        r.counters.events,
        r.lost_events
    )?;
    for p in r.processes.iter().take(top) {
        writeln!(
            out,
            "\npid {}{} ({}){}: {} context switches ({} involuntary), {} migrations ({} across NUMA nodes), {}.{:03}s on CPU",
            p.pid,
            p.tid.map(|t| format!(" tid {t}")).unwrap_or_default(),
            p.comm,
            if p.alive { "" } else { " [exited]" },
            p.context_switches,
            p.involuntary_switches,
            p.migrations,
            p.numa_migrations,
            p.oncpu_us / 1_000_000,
            p.oncpu_us / 1000 % 1000
        )?;
        latency(out, "run-queue latency", &p.runq_latency_us)?;
        latency(out, "off-CPU (blocked)", &p.offcpu_us)?;
    }
    if r.processes.len() > top {
        writeln!(
            out,
            "\n… {} more (--top N, or --format json for all)",
            r.processes.len() - top
        )?;
    }
    for c in &r.programs {
        writeln!(
            out,
            "bpf program {}: {} runs, {:.0} ns/run",
            c.program, c.runs, c.ns_per_run
        )?;
    }
    Ok(())
}

/// A histogram drawn like runqlat's.
fn latency(out: &mut impl Write, what: &str, l: &Latency) -> std::io::Result<()> {
    if l.count == 0 {
        return writeln!(out, "  {what}: none");
    }
    writeln!(
        out,
        "  {what}: {} samples, p50 {:.0} µs, p99 {:.0} µs, mean {:.1} µs",
        l.count, l.p50, l.p99, l.mean
    )?;
    writeln!(out, "{:>15}{:<13} : count    distribution", "usecs", "")?;
    let max = l
        .histogram
        .iter()
        .map(|b| b.count)
        .max()
        .unwrap_or(1)
        .max(1);
    // From the first non-empty bucket (JSON has them all from 0).
    for b in l.histogram.iter().skip_while(|b| b.count == 0) {
        let stars = usize::try_from(b.count * 40 / max).unwrap_or(40);
        writeln!(
            out,
            "{:>12} -> {:<12} : {:<8} |{:<40}|",
            b.low_us,
            b.high_us,
            b.count,
            "*".repeat(stars)
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Duration;

    use super::Style;
    use crate::connections::{Counters, Culprit, Leak, LeakedSocket, Report};
    use crate::frame::{Frame, Program, culprit};

    /// A Go server's leak group as the tracer builds it: the runtime's and
    /// `net`'s frames first, the leaking function (with DWARF, its source
    /// in this repository's Go fixture), main, the goroutine's start.
    fn go_leak() -> Leak {
        let binary = Path::new("/srv/goleaker");
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixture/go/leaker.go");
        let go = |name: &str, file: &Path, line: u32| {
            Frame::named(
                name.to_owned(),
                Some((file.display().to_string(), line)),
                binary,
                Program::Go { main_module: None },
            )
        };
        let goroot = Path::new("/usr/lib/go-1.19/src");
        let runtime_and_net = [
            ("syscall.Syscall6", "syscall/syscall_linux.go", 91),
            ("internal/poll.accept", "internal/poll/sock_cloexec.go", 17),
            (
                "internal/poll.(*FD).Accept",
                "internal/poll/fd_unix.go",
                614,
            ),
            ("net.(*netFD).accept", "net/fd_unix.go", 172),
            ("net.(*TCPListener).accept", "net/tcpsock_posix.go", 142),
            ("net.(*TCPListener).Accept", "net/tcpsock.go", 288),
        ];
        let mut stack: Vec<Frame> = runtime_and_net
            .iter()
            .map(|(name, file, line)| go(name, &goroot.join(file), *line))
            .collect();
        stack.extend([
            go("main.acceptAndMaybeLeak", &source, 29),
            go("main.main", &source, 51),
            go("runtime.main", &goroot.join("runtime/proc.go"), 250),
            go("runtime.goexit", &goroot.join("runtime/asm_amd64.s"), 1594),
        ]);
        let at = culprit(&stack).unwrap_or_default();
        Leak {
            pid: 4242,
            comm: "goleaker".to_owned(),
            cgroup: "/system.slice/goleaker.service".to_owned(),
            cgroup_id: 7,
            state: "CLOSE_WAIT",
            count: 4,
            oldest_age_s: 95.2,
            oldest_in_state_s: 94.8,
            opened_by: "accept",
            culprit: Some(Culprit {
                frame: at,
                at: stack[at].clone(),
            }),
            stack,
            stack_complete: true,
            stack_note: None,
            sockets: (0..4)
                .map(|i| LeakedSocket {
                    local: "10.0.0.5:8080".to_owned(),
                    remote: format!("10.0.0.9:{}", 40000 + i),
                    inode: 1000 + i,
                    age_s: 90.0,
                    fd: None,
                })
                .collect(),
        }
    }

    fn report(leaks: Vec<Leak>) -> Report {
        Report {
            leaks,
            lost_events: 0,
            tracked_sockets: 12,
            duration_s: 60.0,
            counters: Counters {
                captures_pending: 2,
                ..Counters::default()
            },
            programs: Vec::new(),
            call_sites_learned: 3,
            hooks: vec!["cgroup/getpeername4".to_owned()],
        }
    }

    fn draw(r: &Report, style: &Style) -> String {
        let mut out = Vec::new();
        super::connections(&mut out, r, Duration::from_secs(30), None, style)
            .unwrap_or_else(|e| panic!("{e}"));
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn a_leak_group_leads_with_its_culprit_and_folds_the_runtime() {
        let mut partial = go_leak();
        partial.pid = 4343;
        partial.count = 1;
        partial.sockets.truncate(1);
        partial.stack.truncate(7);
        partial.stack_complete = false;
        partial.stack_note = Some("opened before its call site was learned");
        let r = report(vec![go_leak(), partial]);
        // Unit tests run in the crate's directory: source paths below it
        // are shown relative to it.
        let expected = "\
2 leak group(s), 5 leaked socket(s) in CLOSE_WAIT for at least 30s; traced 60.0s, 12 sockets tracked, lost events: 0

#1 4 socket(s) accepted by pid 4242 (goleaker, cgroup /system.slice/goleaker.service), CLOSE_WAIT: oldest 95s old, 95s in CLOSE_WAIT
  culprit: main.acceptAndMaybeLeak (fixture/go/leaker.go:29)
    27 | 		return err
    28 | 	}
  > 29 | 	conn, err := l.Accept()
    30 | 	if err != nil {
    31 | 		return err
    10.0.0.5:8080 -> 10.0.0.9:40000
    10.0.0.5:8080 -> 10.0.0.9:40001
    10.0.0.5:8080 -> 10.0.0.9:40002
    … 1 more
  stack, innermost first (library frames folded; --full-stacks shows them):
    [6 frame(s) in Go runtime, Go std]
  > main.acceptAndMaybeLeak (fixture/go/leaker.go:29)
    main.main (fixture/go/leaker.go:51)
    [2 frame(s) in Go runtime]

#2 1 socket(s) accepted by pid 4343 (goleaker, cgroup /system.slice/goleaker.service), CLOSE_WAIT: oldest 95s old, 95s in CLOSE_WAIT
  culprit: main.acceptAndMaybeLeak (fixture/go/leaker.go:29)
    27 | 		return err
    28 | 	}
  > 29 | 	conn, err := l.Accept()
    30 | 	if err != nil {
    31 | 		return err
    10.0.0.5:8080 -> 10.0.0.9:40000
  stack, innermost first (library frames folded; --full-stacks shows them):
    [6 frame(s) in Go runtime, Go std]
  > main.acceptAndMaybeLeak (fixture/go/leaker.go:29)
  stack partial: opened before its call site was learned

note: group(s) #2 have a partial stack (each says why); over the trace, 2 socket(s) were opened while their call site was being learned and 0 once the capture budget was spent (raise --captures-per-sec)
";
        assert_eq!(draw(&r, &Style::report(false, false)), expected);
    }

    #[test]
    fn the_live_view_shows_the_culprit_in_five_lines() {
        let r = report(vec![go_leak()]);
        let live = draw(&r, &Style::live(false, false));
        assert!(!live.contains("| \tconn"), "no code frame live: {live}");
        assert!(live.contains("  > main.acceptAndMaybeLeak"), "{live}");
        let full = draw(&r, &Style::live(true, false));
        // Unfolded, the first five lines are the runtime's: the culprit
        // is still on its own line above the stack.
        assert!(full.contains("culprit: main.acceptAndMaybeLeak"), "{full}");
        assert!(full.contains("… 5 more line(s)"), "{full}");
        let colored = draw(&r, &Style::report(false, true));
        assert!(
            colored.contains("\u{1b}[1;31mculprit:\u{1b}[0m"),
            "{colored}"
        );
    }
}
