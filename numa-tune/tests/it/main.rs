//! numa-tune on the fixture sysfs trees: every layout parses to the
//! expected topology, every malformed tree is an error naming its file.

use std::path::{Path, PathBuf};

use numa_tune::Topology;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

#[test]
fn offline_cpus_are_excluded_but_kept_apart() {
    let t = Topology::read(&fixture("offline-cpus")).expect("reads");
    assert_eq!(t.nodes[0].cpus.to_string(), "0-2");
    assert_eq!(t.nodes[1].cpus.to_string(), "4-5,7");
    assert_eq!(t.offline_cpus.to_string(), "3,6");
    assert_eq!(t.node_of_cpu(7), Some(1));
    assert_eq!(t.node_of_cpu(3), None);
}

#[test]
fn memory_only_nodes_have_no_cpus() {
    let t = Topology::read(&fixture("memory-only-node")).expect("reads");
    let n2 = t.node(2).expect("node 2");
    assert!(n2.cpus.is_empty());
    assert_eq!(n2.memory_bytes, 64 << 30);
    assert_eq!(n2.distances, vec![14, 24, 10]);
}

#[test]
fn malformed_trees_name_the_file() {
    for (name, file) in [
        ("bad-distance", "node0/distance"),
        ("bad-cpulist", "node0/cpulist"),
        ("cpu-in-two-nodes", "node1/cpulist"),
        ("bad-meminfo", "node0/meminfo"),
    ] {
        let err = Topology::read(&fixture(name)).expect_err(name);
        assert!(err.path.ends_with(file), "{name}: {err}");
    }
}

/// The service hook on a two-node topology laid over this host's two CPUs
/// (node 0 = CPU 0, node 1 = CPU 1): real affinity calls, threads alternate.
#[test]
fn the_spreader_alternates_threads_over_nodes() {
    use numa_tune::hook::Spreader;
    let dir = tempfile::tempdir().expect("tempdir");
    let write = |rel: &str, text: &str| {
        let p = dir.path().join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    };
    write("devices/system/node/online", "0-1\n");
    write("devices/system/cpu/online", "0-1\n");
    for n in 0..2 {
        write(
            &format!("devices/system/node/node{n}/cpulist"),
            &format!("{n}\n"),
        );
        write(
            &format!("devices/system/node/node{n}/meminfo"),
            &format!("Node {n} MemTotal: 1024 kB\nNode {n} MemFree: 512 kB\n"),
        );
        let distance = if n == 0 { "10 20\n" } else { "20 10\n" };
        write(&format!("devices/system/node/node{n}/distance"), distance);
    }
    let topo = Topology::read(dir.path()).expect("topology");
    let spread = std::sync::Arc::new(Spreader::with_topology(&topo).expect("spreader"));
    assert_eq!(spread.nodes(), vec![0, 1]);
    let pinned: Vec<(Option<u32>, String)> = (0..4)
        .map(|_| {
            let s = std::sync::Arc::clone(&spread);
            std::thread::spawn(move || {
                let node = s.pin_next();
                let cpus = numa_tune::sys::get_affinity(0)
                    .expect("affinity")
                    .to_string();
                (node, cpus)
            })
            .join()
            .expect("thread")
        })
        .collect();
    assert_eq!(
        pinned,
        vec![
            (Some(0), "0".to_owned()),
            (Some(1), "1".to_owned()),
            (Some(0), "0".to_owned()),
            (Some(1), "1".to_owned()),
        ]
    );
}
