//! The built-in defaults, as the official StorPool configuration reader carries them.

/// Variables every StorPool tool sees even when no file sets them.
///
/// This is the same table the official reader (`storpool.spconfig.DEFAULTS`, bindings 7.3.0)
/// starts from, so that `sp-conf` shows the same effective configuration as StorPool's own
/// `storpool_confshow`. A volume driver only needs the API host and port of these.
pub const DEFAULTS: &[(&str, &str)] = &[
    ("SP_ABRTSYNC_ALTERNATIVE_SENDER", "1"),
    ("SP_ABRTSYNC_ALTERNATIVE_SENDER_HTTPS", "1"),
    ("SP_ABRTSYNC_NEW_REMOTE_ADDRESSES", "reporter.storpool.com"),
    ("SP_ABRTSYNC_NEW_REMOTE_PORTS", "443"),
    (
        "SP_ABRTSYNC_REMOTE_ADDRESSES",
        "reports.storpool.com,reports1.storpool.com,reports2.storpool.com",
    ),
    ("SP_ABRTSYNC_REMOTE_PORTS", "2266"),
    ("SP_DELETE_REPORTS", "1"),
    ("SP_WORKDIR", "/var/run/storpool"),
    ("SP_REPORTDIR", "/var/spool/storpool"),
    ("SP_REPORTS_FREE_SPACE_LIMIT", "0"),
    ("SP_RESTART_ON_CRASH", "1800"),
    ("SP_API_HTTP_HOST", "127.0.0.1"),
    ("SP_API_HTTP_PORT", "81"),
    ("SP_GUI_HTTP_HOST", ""),
    ("SP_GUI_HTTP_PORT", "443"),
    ("SP_CACHE_SIZE", "4096"),
    (
        "SP_BEACON_CGROUPS",
        "-g cpuset:storpool.slice/beacon -g memory:storpool.slice/common",
    ),
    (
        "SP_BLOCK_CGROUPS",
        "-g cpuset:storpool.slice/block -g memory:storpool.slice/common",
    ),
    (
        "SP_BRIDGE_CGROUPS",
        "-g cpuset:storpool.slice/bridge -g memory:storpool.slice/alloc",
    ),
    (
        "SP_ISCSI_CGROUPS",
        "-g cpuset:storpool.slice/iscsi -g memory:storpool.slice/alloc",
    ),
    (
        "SP_MGMT_CGROUPS",
        "-g cpuset:storpool.slice/mgmt -g memory:storpool.slice/alloc",
    ),
    (
        "SP_RDMA_CGROUPS",
        "-g cpuset:storpool.slice/rdma -g memory:storpool.slice/common",
    ),
    (
        "SP_SERVER_CGROUPS",
        "-g cpuset:storpool.slice/server -g memory:storpool.slice/common",
    ),
    (
        "SP_SERVER1_CGROUPS",
        "-g cpuset:storpool.slice/server_1 -g memory:storpool.slice/common",
    ),
    (
        "SP_SERVER2_CGROUPS",
        "-g cpuset:storpool.slice/server_2 -g memory:storpool.slice/common",
    ),
    (
        "SP_SERVER3_CGROUPS",
        "-g cpuset:storpool.slice/server_3 -g memory:storpool.slice/common",
    ),
    (
        "SP_SERVER4_CGROUPS",
        "-g cpuset:storpool.slice/server_4 -g memory:storpool.slice/common",
    ),
    (
        "SP_SERVER5_CGROUPS",
        "-g cpuset:storpool.slice/server_5 -g memory:storpool.slice/common",
    ),
    (
        "SP_SERVER6_CGROUPS",
        "-g cpuset:storpool.slice/server_6 -g memory:storpool.slice/common",
    ),
    (
        "SP_SERVER7_CGROUPS",
        "-g cpuset:storpool.slice/server_7 -g memory:storpool.slice/common",
    ),
    (
        "SP_SERVER8_CGROUPS",
        "-g cpuset:storpool.slice/server_8 -g memory:storpool.slice/common",
    ),
    (
        "SP_SERVER9_CGROUPS",
        "-g cpuset:storpool.slice/server_9 -g memory:storpool.slice/common",
    ),
    (
        "SP_SERVER10_CGROUPS",
        "-g cpuset:storpool.slice/server_10 -g memory:storpool.slice/common",
    ),
    (
        "SP_SERVER11_CGROUPS",
        "-g cpuset:storpool.slice/server_11 -g memory:storpool.slice/common",
    ),
    (
        "SP_NVMED_CGROUPS",
        "-g cpuset:storpool.slice/beacon -g memory:storpool.slice/common",
    ),
    (
        "SP_CONTROLLER_CGROUPS",
        "-g cpuset:system.slice -g memory:system.slice",
    ),
    (
        "SP_LOGD_CGROUPS",
        "-g cpuset:system.slice -g memory:system.slice",
    ),
    (
        "SP_STAT_CGROUPS",
        "-g cpuset:system.slice -g memory:system.slice",
    ),
    (
        "SP_ABRTSYNC_CGROUPS",
        "-g cpuset:system.slice -g memory:system.slice",
    ),
    (
        "SP_KUBCSI_CGROUPS",
        "-g cpuset:system.slice -g memory:system.slice",
    ),
    ("SP_USE_CGROUPS", "1"),
    ("SP_CPU_DMA_LATENCY", "5"),
    ("SP_DEREGISTER_TIMEOUT_SECONDS", "60"),
    ("SP_NORMAL_RECOVERY_PARALLEL_REQUESTS_PER_DISK", "1"),
    ("SP_REMOTE_RECOVERY_PARALLEL_REQUESTS_PER_DISK", "2"),
    (
        "SP_IFACE1_ETHTOOLOPTS_TEMPLATE",
        "__ETHTOOL__ -A __IFACE__ autoneg off tx off rx on ; \
         __ETHTOOL__ -C __IFACE__ adaptive-rx off adaptive-tx off rx-usecs 5 ; \
         __ETHTOOL__ -G __IFACE__ rx 4096 tx 512",
    ),
    (
        "SP_IFACE2_ETHTOOLOPTS_TEMPLATE",
        "__ETHTOOL__ -A __IFACE__ autoneg off tx off rx on ; \
         __ETHTOOL__ -C __IFACE__ adaptive-rx off adaptive-tx off rx-usecs 5 ; \
         __ETHTOOL__ -G __IFACE__ rx 4096 tx 512",
    ),
    ("SP_PREFERRED_PORT", "0"),
    ("SP_NVME_PCI_DRIVER", "storpool_pci"),
    ("SP_BD_LOG_OPEN_CLOSE", "1"),
];
