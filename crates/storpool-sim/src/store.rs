//! Durable metadata: `SQLite` in WAL mode, one transaction per mutating call, only the rows the
//! call changed (so the cost of a change does not grow with the number of objects).
//!
//! A change writes as few pages as it can: the meta row is updated in place (a replace would
//! also rewrite its primary-key index), and the database is opened in exclusive locking mode
//! (one simulator owns its state directory), which spares the file locks and the shared-memory
//! index every transaction would otherwise take.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::SimError;
use crate::model::{Cluster, Disk, Key, Meta, Obj, PlacementGroup, Template};

const KIND_OBJ: i64 = 1;
const KIND_TEMPLATE: i64 = 2;
const KIND_PG: i64 = 3;
const KIND_DISK: i64 = 4;

/// The state database.
pub(crate) struct Store {
    conn: Connection,
    path: PathBuf,
}

impl Store {
    /// Open (creating if needed) the database. `sync`: fsync every commit (power-loss safe);
    /// otherwise a commit survives a crash of the process but not of the machine.
    pub(crate) fn open(path: &Path, sync: bool) -> Result<Self, SimError> {
        let err = |source| SimError::Store {
            path: path.to_owned(),
            source,
        };
        let conn = Connection::open(path).map_err(err)?;
        // Before the first access: the WAL index then lives in this process's memory.
        conn.pragma_update(None, "locking_mode", "EXCLUSIVE")
            .map_err(err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(err)?;
        conn.pragma_update(None, "synchronous", if sync { "FULL" } else { "NORMAL" })
            .map_err(err)?;
        // 32 MiB of page cache: inserts stay in memory for clusters of 100,000s of objects.
        conn.pragma_update(None, "cache_size", -32768)
            .map_err(err)?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS rows (kind INTEGER NOT NULL, id INTEGER NOT NULL,
                 v TEXT NOT NULL, PRIMARY KEY (kind, id)) WITHOUT ROWID;
             CREATE TABLE IF NOT EXISTS pending_replace (tmp TEXT PRIMARY KEY, gid TEXT NOT NULL);",
        )
        .map_err(err)?;
        Ok(Self {
            conn,
            path: path.to_owned(),
        })
    }

    fn corrupt(&self, what: String) -> SimError {
        SimError::Corrupt {
            path: self.path.clone(),
            what,
        }
    }

    /// Load a saved cluster, if there is one.
    pub(crate) fn load(&self) -> Result<Option<Cluster>, SimError> {
        let err = |source| SimError::Store {
            path: self.path.clone(),
            source,
        };
        let meta: Option<String> = self
            .conn
            .query_row("SELECT v FROM meta WHERE k = 'meta'", [], |r| r.get(0))
            .optional()
            .map_err(err)?;
        let Some(meta) = meta else { return Ok(None) };
        let meta: Meta =
            serde_json::from_str(&meta).map_err(|e| self.corrupt(format!("meta: {e}")))?;
        let mut cl = Cluster::new(meta);
        let mut stmt = self
            .conn
            .prepare("SELECT kind, id, v FROM rows")
            .map_err(err)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })
            .map_err(err)?;
        for row in rows {
            let (kind, id, v) = row.map_err(err)?;
            let bad = |e: serde_json::Error| self.corrupt(format!("row {kind}/{id}: {e}"));
            match kind {
                KIND_OBJ => {
                    cl.put_raw(serde_json::from_str::<Obj>(&v).map_err(bad)?);
                }
                KIND_TEMPLATE => {
                    cl.load_template(serde_json::from_str::<Template>(&v).map_err(bad)?);
                }
                KIND_PG => cl.load_pg(serde_json::from_str::<PlacementGroup>(&v).map_err(bad)?),
                KIND_DISK => cl.load_disk(serde_json::from_str::<Disk>(&v).map_err(bad)?),
                _ => return Err(self.corrupt(format!("unknown row kind {kind}"))),
            }
        }
        Ok(Some(cl))
    }

    /// Replacements of data files that were committed but maybe not carried out.
    pub(crate) fn pending(&self) -> Result<Vec<(String, String)>, SimError> {
        let err = |source| SimError::Store {
            path: self.path.clone(),
            source,
        };
        let mut stmt = self
            .conn
            .prepare("SELECT tmp, gid FROM pending_replace")
            .map_err(err)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .map_err(err)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(err)
    }

    pub(crate) fn clear_pending(&mut self) {
        if let Err(e) = self.conn.execute("DELETE FROM pending_replace", []) {
            tracing::warn!(error = %e, "cannot clear the pending data replacements");
        }
    }

    /// Write the changed rows and the meta row in one transaction.
    pub(crate) fn commit(
        &mut self,
        meta: &str,
        rows: &[(Key, Option<String>)],
        pending: &[(String, String)],
    ) -> Result<(), rusqlite::Error> {
        let tx = self.conn.transaction()?;
        {
            let mut up =
                tx.prepare_cached("INSERT OR REPLACE INTO rows (kind, id, v) VALUES (?1, ?2, ?3)")?;
            let mut del = tx.prepare_cached("DELETE FROM rows WHERE kind = ?1 AND id = ?2")?;
            for (key, v) in rows {
                let (kind, id) = match key {
                    Key::Obj(id) => (KIND_OBJ, i64::try_from(*id).unwrap_or(i64::MAX)),
                    Key::Template(id) => (KIND_TEMPLATE, i64::try_from(*id).unwrap_or(i64::MAX)),
                    Key::Pg(id) => (KIND_PG, i64::try_from(*id).unwrap_or(i64::MAX)),
                    Key::Disk(id) => (KIND_DISK, i64::from(*id)),
                };
                match v {
                    Some(v) => up.execute(params![kind, id, v]),
                    None => del.execute(params![kind, id]),
                }?;
            }
            let updated = tx
                .prepare_cached("UPDATE meta SET v = ?1 WHERE k = 'meta'")
                .and_then(|mut s| s.execute(params![meta]))?;
            if updated == 0 {
                tx.prepare_cached("INSERT INTO meta (k, v) VALUES ('meta', ?1)")
                    .and_then(|mut s| s.execute(params![meta]))?;
            }
            for (tmp, gid) in pending {
                tx.prepare_cached(
                    "INSERT OR REPLACE INTO pending_replace (tmp, gid) VALUES (?1, ?2)",
                )
                .and_then(|mut s| s.execute(params![tmp, gid]))?;
            }
        }
        tx.commit()
    }
}

/// Whether a store error means the disk (or the database's size limit) is full: `SQLite`
/// reports `ENOSPC` as `SQLITE_FULL`.
pub(crate) fn is_full(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::DiskFull
    )
}

#[cfg(test)]
impl Store {
    /// Let the database grow by no more pages: the next commit that needs one fails as on a
    /// full disk (`SQLITE_FULL`).
    pub(crate) fn freeze_size(&self) {
        let pages: i64 = self
            .conn
            .query_row("PRAGMA page_count", [], |r| r.get(0))
            .unwrap_or(1);
        let _ = self
            .conn
            .query_row(&format!("PRAGMA max_page_count = {pages}"), [], |_| Ok(()));
    }
}
