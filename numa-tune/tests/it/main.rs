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
