//! Config parameters (the page URL's query, `/butane?...`): never a panic, and anything accepted
//! yields Ignition JSON that parses and units whose values cannot break out of their lines.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let query = String::from_utf8_lossy(data);
    let (generated, _) = shared::config::generate(&query);
    if let Some(g) = generated {
        let ign: serde_json::Value =
            serde_json::from_str(&g.ignition_json).expect("Ignition is JSON");
        for unit in ign["systemd"]["units"].as_array().unwrap() {
            for d in unit["dropins"].as_array().into_iter().flatten() {
                let text = d["contents"].as_str().unwrap();
                // Every line is one of ours: a section, a known key, or a flag continuation.
                for line in text.lines() {
                    assert!(
                        line.is_empty()
                            || line.starts_with('[')
                            || line.starts_with("  --")
                            || [
                                "Requires=",
                                "After=",
                                "EnvironmentFile=",
                                "Environment=\"ETCD_",
                                "ExecStart="
                            ]
                            .iter()
                            .any(|p| line.starts_with(p)),
                        "unexpected unit line {line:?} from {query:?}"
                    );
                }
            }
        }
    }
});
