//! Reading the driver's snapshots and the cluster's templates (issue 15).

use storpool_driver_core::{ErrorKind, Specs, SpecsExt as _};

use crate::env;

#[tokio::test]
async fn list_snapshots_shows_only_the_drivers_own_snapshots_sorted() {
    let env = env();
    let driver = &env.driver;
    for id in ["a", "b"] {
        driver.create_volume(id, 1, &Specs::new()).await.unwrap();
    }
    driver.create_snapshot("a", "s2").await.unwrap();
    driver.create_snapshot("b", "s1").await.unwrap();
    // Not plain snapshots of the driver: a group snapshot's members and a clone's snapshot
    // across templates.
    driver
        .create_group_snapshot("g1", &["a", "b"])
        .await
        .unwrap();
    let ssd = Specs::from_pairs([("storpool_template", "ssd")]);
    driver.clone_volume("c", "a", 1, &ssd).await.unwrap();

    let listed = driver.list_snapshots(None).await.unwrap();
    let ids: Vec<&str> = listed.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["s1", "s2"]);
    assert_eq!(listed[1].name, "os--snap--none--snapshot-s2");
    assert_eq!(listed[1].volume.as_deref(), Some("os--volume-a"));
    assert_eq!(listed[1].size_gib, 1);

    assert_eq!(driver.get_snapshot("s1").await.unwrap(), listed[0]);
    assert_eq!(
        driver.find_snapshot("s2").await.unwrap().as_ref(),
        Some(&listed[1])
    );
    assert_eq!(driver.find_snapshot("nope").await.unwrap(), None);
    let missing = driver.get_snapshot("nope").await.unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::NotFound);
    let invalid = driver.get_snapshot("bad/id").await.unwrap_err();
    assert_eq!(invalid.kind(), ErrorKind::InvalidInput);
}

#[tokio::test]
async fn list_templates_gives_each_template_its_replication() {
    let env = env();
    let templates = env.driver.list_templates().await.unwrap();
    let summary: Vec<(&str, Option<u8>)> = templates
        .iter()
        .map(|t| (t.name.as_str(), t.replication))
        .collect();
    assert_eq!(summary, [("hdd", Some(2)), ("ssd", Some(3))]);
    assert_eq!(templates[0].iops, None);
}
