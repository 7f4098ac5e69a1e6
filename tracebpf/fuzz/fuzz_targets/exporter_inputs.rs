//! What the exporter parses from outside: the web configuration file
//! (YAML), request heads and their Authorization header from the network,
//! and cgroup paths (partly chosen by whoever names a container or unit).
//! None may panic; a configuration is accepted or refused with a message.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        drop(tracebpf::web::WebConfig::parse(text, std::path::Path::new("/fuzz/web.yml")));
        let parsed = tracebpf::workload::parse(text);
        drop(tracebpf::workload::Names::default().workload(&parsed));
    }
    tracebpf::web::fuzz_request(data);
});
