//! Database connections and migrations for Virga services.
//!
//! Every service owns its own database: a SQLite file in the embedded
//! all-in-one (`virga up`), a PostgreSQL database per service otherwise. This
//! crate opens either from a URL, creates what is missing, and runs the
//! service's sea-orm migrations at start, so the same queries run on both.

use std::time::Duration;

use sea_orm::sqlx::sqlite::SqliteJournalMode;
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr,
    SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
};
use sea_orm_migration::MigratorTrait;

pub use sea_orm;
pub use sea_orm_migration;

/// Now, cut to microseconds: PostgreSQL keeps no more, so a model returned
/// by a create equals the one read back later.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound;
    chrono::Utc::now().trunc_subsecs(6)
}

/// Whether a database error is a unique-key violation (on either backend).
pub fn is_unique_violation(e: &sea_orm::DbErr) -> bool {
    matches!(
        e.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

/// Begins a transaction that will write. On SQLite it takes the write lock
/// at `BEGIN IMMEDIATE`, waiting out other writers under the busy timeout:
/// a deferred transaction that reads first and writes later fails at once
/// with SQLITE_BUSY_SNAPSHOT — which no busy timeout retries — when another
/// writer committed in between. PostgreSQL ignores the mode.
pub async fn begin_write<C: TransactionTrait>(db: &C) -> Result<C::Transaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}

/// Why a service could not get its database; shown as one line at start.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("unsupported database URL `{0}` (expected sqlite: or postgres://)")]
    UnsupportedUrl(String),
    #[error("cannot create the directory for SQLite database {path}")]
    CreateDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot connect to database {url}")]
    Connect {
        url: String,
        #[source]
        source: DbErr,
    },
    #[error("cannot create database `{name}` on {server}")]
    Create {
        name: String,
        server: String,
        #[source]
        source: DbErr,
    },
    #[error("migrations failed on {url}")]
    Migrate {
        url: String,
        #[source]
        source: DbErr,
    },
}

/// Connects to `url`, creating the SQLite file (and its directory) or the
/// PostgreSQL database when it does not exist yet.
pub async fn connect(url: &str, max_connections: u32) -> Result<DatabaseConnection, DbError> {
    if let Some(path) = sqlite_path(url) {
        if let Some(dir) = std::path::Path::new(&path)
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir).map_err(|source| DbError::CreateDir {
                path: path.clone(),
                source,
            })?;
        }
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        ensure_postgres_database(url).await?;
    } else {
        return Err(DbError::UnsupportedUrl(redact(url)));
    }
    open(url, max_connections).await
}

/// Connects, then brings the schema up to date with `M`'s migrations.
pub async fn connect_and_migrate<M: MigratorTrait>(
    url: &str,
    max_connections: u32,
) -> Result<DatabaseConnection, DbError> {
    let db = connect(url, max_connections).await?;
    migrate::<M>(&db, url).await?;
    Ok(db)
}

/// Applies every pending migration of `M`; already applied ones are skipped,
/// so running it at every start is safe.
pub async fn migrate<M: MigratorTrait>(db: &DatabaseConnection, url: &str) -> Result<(), DbError> {
    M::up(db, None).await.map_err(|source| DbError::Migrate {
        url: redact(url),
        source,
    })?;
    tracing::debug!(url = %redact(url), "migrations applied");
    Ok(())
}

async fn open(url: &str, max_connections: u32) -> Result<DatabaseConnection, DbError> {
    let mut opts = ConnectOptions::new(url.to_string());
    opts.max_connections(max_connections)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(5))
        .sqlx_logging(false)
        // WAL lets readers run beside the one writer; the busy timeout makes
        // concurrent writers wait instead of failing with SQLITE_BUSY.
        .map_sqlx_sqlite_opts(|o| {
            o.create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
        });
    Database::connect(opts)
        .await
        .map_err(|source| DbError::Connect {
            url: redact(url),
            source,
        })
}

/// The file path of a `sqlite:` URL, or None for other URLs and in-memory databases.
fn sqlite_path(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| path.to_string())
}

/// Creates the database named in a PostgreSQL URL if it is missing, by way of
/// the server's `postgres` maintenance database.
async fn ensure_postgres_database(url: &str) -> Result<(), DbError> {
    let (server, name, query) =
        split_postgres_url(url).ok_or_else(|| DbError::UnsupportedUrl(redact(url)))?;
    let admin_url = format!("{server}/postgres{query}");
    let admin = open(&admin_url, 1).await?;
    let exists = admin
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT 1 FROM pg_database WHERE datname = $1",
            [name.clone().into()],
        ))
        .await
        .map_err(|source| DbError::Connect {
            url: redact(&admin_url),
            source,
        })?
        .is_some();
    if !exists {
        let sql = format!("CREATE DATABASE \"{}\"", name.replace('"', "\"\""));
        match admin.execute_unprepared(&sql).await {
            Ok(_) => tracing::info!(database = %name, "created database"),
            // Another service instance may have created it a moment ago.
            Err(e) if e.to_string().contains("already exists") => {}
            Err(source) => {
                return Err(DbError::Create {
                    name,
                    server: redact(&server),
                    source,
                });
            }
        }
    }
    admin.close().await.ok();
    Ok(())
}

/// Splits `postgres://user@host:port/db?opts` into (`postgres://user@host:port`, `db`, `?opts`).
fn split_postgres_url(url: &str) -> Option<(String, String, String)> {
    let scheme_end = url.find("://")? + 3;
    let (base, query) = match url.find('?') {
        Some(i) => (&url[..i], &url[i..]),
        None => (url, ""),
    };
    let slash = base[scheme_end..].find('/')? + scheme_end;
    let name = &base[slash + 1..];
    (!name.is_empty()).then(|| {
        (
            base[..slash].to_string(),
            name.to_string(),
            query.to_string(),
        )
    })
}

/// Hides a password in a URL so it can be logged or shown.
pub fn redact(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_string();
    };
    let Some(at) = url[scheme_end..].find('@').map(|i| i + scheme_end) else {
        return url.to_string();
    };
    match url[scheme_end..at].find(':') {
        Some(colon) => format!("{}:***{}", &url[..scheme_end + colon], &url[at..]),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            sqlite_path("sqlite:///var/lib/virga/x.db").as_deref(),
            Some("/var/lib/virga/x.db")
        );
        assert_eq!(
            sqlite_path("sqlite://rel.db?mode=rwc").as_deref(),
            Some("rel.db")
        );
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(
            split_postgres_url("postgres://u:p@h:5/db?sslmode=disable"),
            Some((
                "postgres://u:p@h:5".into(),
                "db".into(),
                "?sslmode=disable".into()
            ))
        );
        assert_eq!(split_postgres_url("postgres://h:5/"), None);
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
    }
}
