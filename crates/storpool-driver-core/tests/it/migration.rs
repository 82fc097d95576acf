//! Finishing a migration: rename, three-way swap, failures, interrupted swaps.

use serde_json::json;
use storpool_driver_core::{DriverOptions, MIGRATION_TAG, Specs};
use storpool_sim::InjectedError;

use crate::proxy::Proxy;
use crate::{Env, env, vol};

/// Global ids by volume name, to follow the data through renames.
fn gid(env: &Env, name: &str) -> String {
    env.state().volume(name).unwrap().global_id.clone()
}

fn rename(env: &Env, from: &str, to: &str) {
    env.sim
        .call(
            "POST",
            &format!("VolumeUpdate/{from}"),
            Some(json!({"rename": to})),
        )
        .unwrap();
}

#[tokio::test]
async fn the_reference_sequence_fail_rename_swap() {
    let env = env();
    env.driver
        .create_volume("1", 1, &Specs::new())
        .await
        .unwrap();
    env.driver
        .create_volume("2", 1, &Specs::new())
        .await
        .unwrap();

    // Failure: the "migrated" volume does not exist; the answer names the id holding the data.
    let failed = env
        .driver
        .finish_migration("1", "3", Some("1"))
        .await
        .unwrap();
    assert_eq!(failed.name_id.as_deref(), Some("1"));
    assert_eq!(
        serde_json::to_value(&failed).unwrap(),
        json!({"_name_id": "1"})
    );
    let failed = env.driver.finish_migration("1", "3", None).await.unwrap();
    assert_eq!(failed.name_id.as_deref(), Some("3"));

    // Rename: the original name is free.
    let data2 = gid(&env, &vol("2"));
    let done = env
        .driver
        .finish_migration("3", "2", Some("3"))
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(&done).unwrap(),
        json!({"_name_id": null})
    );
    assert_eq!(env.volumes(), [vol("1"), vol("3")]);
    assert_eq!(gid(&env, &vol("3")), data2);

    // Swap: both names exist.
    let data1 = gid(&env, &vol("1"));
    let data3 = gid(&env, &vol("3"));
    let done = env
        .driver
        .finish_migration("1", "3", Some("1"))
        .await
        .unwrap();
    assert_eq!(done.name_id, None);
    assert_eq!(env.volumes(), [vol("1"), vol("3")]);
    assert_eq!(
        gid(&env, &vol("1")),
        data3,
        "the migrated data has the original name"
    );
    assert_eq!(
        gid(&env, &vol("3")),
        data1,
        "the old data has the temporary name"
    );

    let err = env
        .driver
        .finish_migration("1", "1", None)
        .await
        .unwrap_err();
    assert!(err.is_user_error(), "{err}");
    assert_eq!(env.volumes(), [vol("1"), vol("3")]);

    for id in ["1", "3"] {
        env.driver.delete_volume(id).await.unwrap();
    }
    env.assert_empty();
}

#[tokio::test]
async fn a_swap_failing_at_any_rename_is_rolled_back_and_reported() {
    // The driver's VolumeUpdate calls: the tag, then the three renames.
    for failing_step in 0..4 {
        let env = env();
        let proxy = Proxy::start(&env.sim).await;
        let driver = proxy.driver(&env.sim, DriverOptions::new());
        driver
            .create_volume("orig", 1, &Specs::new())
            .await
            .unwrap();
        driver
            .create_volume("temp", 1, &Specs::new())
            .await
            .unwrap();
        let (old, new) = (gid(&env, &vol("orig")), gid(&env, &vol("temp")));
        proxy.fail("VolumeUpdate", failing_step, 1, "busy");
        let failed = driver.finish_migration("orig", "temp", None).await.unwrap();
        assert_eq!(
            failed.name_id.as_deref(),
            Some("temp"),
            "step {failing_step}"
        );
        // Rolled back to before the swap: each name holds its own data again.
        assert_eq!(
            env.volumes(),
            [vol("orig"), vol("temp")],
            "step {failing_step}"
        );
        assert_eq!(gid(&env, &vol("orig")), old, "step {failing_step}");
        assert_eq!(gid(&env, &vol("temp")), new, "step {failing_step}");
        // And the next call succeeds.
        let done = driver.finish_migration("orig", "temp", None).await.unwrap();
        assert_eq!(done.name_id, None);
        assert_eq!(gid(&env, &vol("orig")), new);
    }
}

#[tokio::test]
async fn renames_whose_answers_are_lost_still_complete_the_swap() {
    let env = env();
    let proxy = Proxy::start(&env.sim).await;
    let driver = proxy.driver(&env.sim, DriverOptions::new());
    driver
        .create_volume("orig", 1, &Specs::new())
        .await
        .unwrap();
    driver
        .create_volume("temp", 1, &Specs::new())
        .await
        .unwrap();
    let (old, new) = (gid(&env, &vol("orig")), gid(&env, &vol("temp")));
    // The tag and the three renames.
    proxy.drop_answers("VolumeUpdate", 0, 4);
    let done = driver.finish_migration("orig", "temp", None).await.unwrap();
    assert_eq!(done.name_id, None);
    assert_eq!(gid(&env, &vol("orig")), new);
    assert_eq!(gid(&env, &vol("temp")), old);
    assert_eq!(env.volumes(), [vol("orig"), vol("temp")]);
}

#[tokio::test]
async fn a_swap_interrupted_after_its_first_rename_is_completed() {
    let env = env();
    env.driver
        .create_volume("orig", 1, &Specs::new())
        .await
        .unwrap();
    env.driver
        .create_volume("temp", 1, &Specs::new())
        .await
        .unwrap();
    let (old, new) = (gid(&env, &vol("orig")), gid(&env, &vol("temp")));
    rename(&env, &vol("orig"), &format!("{}--temp--mig", vol("temp")));
    let done = env
        .driver
        .finish_migration("orig", "temp", None)
        .await
        .unwrap();
    assert_eq!(done.name_id, None);
    assert_eq!(env.volumes(), [vol("orig"), vol("temp")]);
    assert_eq!(gid(&env, &vol("orig")), new);
    assert_eq!(gid(&env, &vol("temp")), old);
}

#[tokio::test]
async fn a_swap_interrupted_after_its_second_rename_is_completed() {
    let env = env();
    env.driver
        .create_volume("orig", 1, &Specs::new())
        .await
        .unwrap();
    env.driver
        .create_volume("temp", 1, &Specs::new())
        .await
        .unwrap();
    let (old, new) = (gid(&env, &vol("orig")), gid(&env, &vol("temp")));
    let intermediate = format!("{}--temp--mig", vol("temp"));
    rename(&env, &vol("orig"), &intermediate);
    rename(&env, &vol("temp"), &vol("orig"));
    let done = env
        .driver
        .finish_migration("orig", "temp", None)
        .await
        .unwrap();
    assert_eq!(done.name_id, None);
    assert_eq!(env.volumes(), [vol("orig"), vol("temp")]);
    assert_eq!(gid(&env, &vol("orig")), new);
    assert_eq!(gid(&env, &vol("temp")), old);
    // The driver's listing never shows intermediates.
    rename(&env, &vol("temp"), &intermediate);
    let ids: Vec<String> = env
        .driver
        .list_volumes()
        .await
        .unwrap()
        .into_iter()
        .map(|v| v.id)
        .collect();
    assert_eq!(ids, ["orig"]);
}

#[tokio::test]
async fn an_intermediate_without_the_migrated_volume_gets_its_name_back() {
    let env = env();
    env.driver
        .create_volume("orig", 1, &Specs::new())
        .await
        .unwrap();
    let old = gid(&env, &vol("orig"));
    rename(&env, &vol("orig"), &format!("{}--temp--mig", vol("temp")));
    let failed = env
        .driver
        .finish_migration("orig", "temp", None)
        .await
        .unwrap();
    assert_eq!(failed.name_id.as_deref(), Some("temp"));
    assert_eq!(env.volumes(), [vol("orig")]);
    assert_eq!(gid(&env, &vol("orig")), old);
}

#[tokio::test]
async fn a_failed_simple_rename_is_reported_as_failure() {
    let env = env();
    env.driver
        .create_volume("temp", 1, &Specs::new())
        .await
        .unwrap();
    env.sim.inject_error(InjectedError {
        call: Some("VolumeUpdate".to_owned()),
        times: 1,
        name: "invalidParam".to_owned(),
        descr: "no".to_owned(),
        transient: false,
        status: 500,
    });
    let failed = env
        .driver
        .finish_migration("orig", "temp", Some("name-id"))
        .await
        .unwrap();
    assert_eq!(failed.name_id.as_deref(), Some("name-id"));
    assert_eq!(env.volumes(), [vol("temp")]);
}

#[tokio::test]
async fn finishing_a_swap_twice_leaves_the_migrated_data_under_the_original_name() {
    let env = env();
    env.driver
        .create_volume("orig", 1, &Specs::new())
        .await
        .unwrap();
    env.driver
        .create_volume("temp", 1, &Specs::new())
        .await
        .unwrap();
    let (old, new) = (gid(&env, &vol("orig")), gid(&env, &vol("temp")));
    for attempt in 0..3 {
        let done = env
            .driver
            .finish_migration("orig", "temp", None)
            .await
            .unwrap();
        assert_eq!(done.name_id, None, "attempt {attempt}");
        assert_eq!(env.volumes(), [vol("orig"), vol("temp")]);
        assert_eq!(gid(&env, &vol("orig")), new, "attempt {attempt}");
        assert_eq!(gid(&env, &vol("temp")), old, "attempt {attempt}");
    }
    // Cinder deletes the temporary volume (now the old data); a late retry still succeeds.
    env.driver.delete_volume("temp").await.unwrap();
    let done = env
        .driver
        .finish_migration("orig", "temp", None)
        .await
        .unwrap();
    assert_eq!(done.name_id, None);
    assert_eq!(env.volumes(), [vol("orig")]);
    assert_eq!(gid(&env, &vol("orig")), new);
}

#[tokio::test]
async fn finishing_a_rename_twice_is_success_both_times() {
    let env = env();
    env.driver
        .create_volume("temp", 1, &Specs::new())
        .await
        .unwrap();
    let new = gid(&env, &vol("temp"));
    for attempt in 0..2 {
        let done = env
            .driver
            .finish_migration("orig", "temp", Some("temp"))
            .await
            .unwrap();
        assert_eq!(done.name_id, None, "attempt {attempt}");
        assert_eq!(env.volumes(), [vol("orig")]);
        assert_eq!(gid(&env, &vol("orig")), new);
    }
}

/// A finish killed after `k` of its calls (the tag, then the three renames), done here by
/// hand, is completed by the next finish, which a further retry leaves alone.
#[tokio::test]
async fn a_finish_killed_at_any_point_is_completed_by_the_next_one() {
    for k in 0..=4 {
        let env = env();
        env.driver
            .create_volume("orig", 1, &Specs::new())
            .await
            .unwrap();
        env.driver
            .create_volume("temp", 1, &Specs::new())
            .await
            .unwrap();
        let (old, new) = (gid(&env, &vol("orig")), gid(&env, &vol("temp")));
        let intermediate = format!("{}--temp--mig", vol("temp"));
        let calls: [(&str, serde_json::Value); 4] = [
            (&new, json!({"tags": {MIGRATION_TAG: "temp"}})),
            (&old, json!({"rename": intermediate})),
            (&new, json!({"rename": vol("orig")})),
            (&old, json!({"rename": vol("temp")})),
        ];
        for (target, body) in calls.into_iter().take(k) {
            env.sim
                .call("POST", &format!("VolumeUpdate/~{target}"), Some(body))
                .unwrap();
        }
        for attempt in 0..2 {
            let done = env
                .driver
                .finish_migration("orig", "temp", None)
                .await
                .unwrap();
            assert_eq!(done.name_id, None, "k {k}, attempt {attempt}");
            assert_eq!(env.volumes(), [vol("orig"), vol("temp")], "k {k}");
            assert_eq!(gid(&env, &vol("orig")), new, "k {k}, attempt {attempt}");
            assert_eq!(gid(&env, &vol("temp")), old, "k {k}, attempt {attempt}");
        }
        assert_eq!(
            env.sim.tags(&vol("orig")).unwrap()[MIGRATION_TAG],
            "temp",
            "the migrated data keeps its mark"
        );
    }
}

/// The same for a plain rename (no volume had the original name): tag, then one rename.
#[tokio::test]
async fn a_rename_killed_at_any_point_is_completed_by_the_next_one() {
    for k in 0..=2 {
        let env = env();
        env.driver
            .create_volume("temp", 1, &Specs::new())
            .await
            .unwrap();
        let new = gid(&env, &vol("temp"));
        let calls = [
            json!({"tags": {MIGRATION_TAG: "temp"}}),
            json!({"rename": vol("orig")}),
        ];
        for body in calls.into_iter().take(k) {
            env.sim
                .call("POST", &format!("VolumeUpdate/~{new}"), Some(body))
                .unwrap();
        }
        for attempt in 0..2 {
            let done = env
                .driver
                .finish_migration("orig", "temp", None)
                .await
                .unwrap();
            assert_eq!(done.name_id, None, "k {k}, attempt {attempt}");
            assert_eq!(env.volumes(), [vol("orig")], "k {k}");
            assert_eq!(gid(&env, &vol("orig")), new, "k {k}");
        }
    }
}

/// A later migration of the same volume (another temporary volume) swaps again: the mark of
/// the first one does not stop it.
#[tokio::test]
async fn a_second_migration_of_the_same_volume_is_not_taken_for_a_retry() {
    let env = env();
    for id in ["orig", "temp1", "temp2"] {
        env.driver
            .create_volume(id, 1, &Specs::new())
            .await
            .unwrap();
    }
    let (first, second) = (gid(&env, &vol("temp1")), gid(&env, &vol("temp2")));
    let done = env
        .driver
        .finish_migration("orig", "temp1", None)
        .await
        .unwrap();
    assert_eq!(done.name_id, None);
    assert_eq!(gid(&env, &vol("orig")), first);
    let done = env
        .driver
        .finish_migration("orig", "temp2", None)
        .await
        .unwrap();
    assert_eq!(done.name_id, None);
    assert_eq!(gid(&env, &vol("orig")), second);
    assert_eq!(gid(&env, &vol("temp2")), first);
}

#[tokio::test]
async fn deleting_the_migration_source_deletes_the_old_data_whichever_name_it_has() {
    // Cinder's generic migration ends by deleting the source record: id = the temporary
    // volume's id, name id = the original id. After a swap the old data is under the
    // temporary id's name, and the original name holds the migrated data, which must stay.
    let env = env();
    for id in ["orig", "temp"] {
        env.driver
            .create_volume(id, 1, &Specs::new())
            .await
            .unwrap();
    }
    let (old, new) = (gid(&env, &vol("orig")), gid(&env, &vol("temp")));
    let done = env
        .driver
        .finish_migration("orig", "temp", None)
        .await
        .unwrap();
    assert_eq!(done.name_id, None);
    let deleted = env
        .driver
        .delete_migration_source("temp", "orig")
        .await
        .unwrap();
    assert_eq!(deleted.name, vol("temp"));
    assert!(deleted.existed);
    assert_eq!(env.volumes(), [vol("orig")]);
    assert_eq!(gid(&env, &vol("orig")), new, "the migrated data stays");
    assert!(!env.state().volumes.iter().any(|v| v.global_id == old));
    // Again (a retry after a lost answer): nothing left to delete, the data still there.
    let again = env
        .driver
        .delete_migration_source("temp", "orig")
        .await
        .unwrap();
    assert_eq!(gid(&env, &vol("orig")), new);
    assert!(!again.existed);

    // When the finish failed (no swap), the source record's name id names the old data.
    for id in ["a", "b"] {
        env.driver
            .create_volume(id, 1, &Specs::new())
            .await
            .unwrap();
    }
    let migrated = gid(&env, &vol("b"));
    let deleted = env.driver.delete_migration_source("b", "a").await.unwrap();
    assert_eq!(deleted.name, vol("a"));
    assert_eq!(env.volumes(), [vol("b"), vol("orig")]);
    assert_eq!(gid(&env, &vol("b")), migrated);
}
