//! How long reading a typical storpool.conf takes: a main file with host sections and three
//! drop-ins, the way every tool starts.
#![allow(clippy::unwrap_used)]

use std::fmt::Write as _;
use std::hint::black_box;

use storpool_benches::{Row, Stats, print_table};
use storpool_conf::Loader;

fn typical(dir: &std::path::Path) -> std::path::PathBuf {
    let main = dir.join("storpool.conf");
    let mut text = String::from(
        "# StorPool configuration\nSP_CLUSTER_NAME=lab\nSP_CLUSTER_ID=d.n\n\
         SP_API_HTTP_HOST=10.0.0.5\nSP_API_HTTP_PORT=81\nSP_AUTH_TOKEN=1556129910218014736\n",
    );
    for node in 1..=24 {
        writeln!(
            text,
            "\n[node-{node}]\nSP_OURID={node}\nSP_IFACE1_CFG=1:eth2.{node}:eth2:{node}:10.1.0.{node}:b:s:P\n\
             SP_NODE_NON_VOTING=0"
        )
        .unwrap();
    }
    std::fs::write(&main, text).unwrap();
    let drop_ins = dir.join("storpool.conf.d");
    std::fs::create_dir(&drop_ins).unwrap();
    std::fs::write(drop_ins.join("10-cache.conf"), "SP_CACHE_SIZE=8192\n").unwrap();
    std::fs::write(
        drop_ins.join("20-openstack.conf"),
        "SP_OPENSTACK_VOLUME_PREFIX=os\n[node-7]\nSP_OPENSTACK_EXTRA=1\n",
    )
    .unwrap();
    std::fs::write(
        drop_ins.join("30-api.conf"),
        "# moved API\nSP_API_HTTP_HOST=10.0.0.6\n",
    )
    .unwrap();
    main
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let main = typical(dir.path());
    let text = std::fs::read_to_string(&main).unwrap();
    let rows = [
        Stats::measure("parse main file (text)", 2000, || {
            black_box(storpool_conf::parse("storpool.conf", black_box(&text)).unwrap());
        }),
        Stats::measure("load main + 3 drop-ins", 2000, || {
            let config = Loader::new(&main)
                .section("node-7")
                .use_env(false)
                .load()
                .unwrap();
            black_box(config.our_id().unwrap());
        }),
        Stats::measure("list sections", 2000, || {
            black_box(Loader::new(&main).sections().unwrap());
        }),
    ];
    print_table("storpool-conf", &rows.map(Row::from));
}
