#include "localstore.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QLoggingCategory>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QStandardPaths>
#include <QUuid>

namespace fleet {

Q_LOGGING_CATEGORY(lcStore, "fleet.store")

namespace {

// A null QString binds as SQL NULL, which the NOT NULL columns refuse: an unknown actor is stored as "".
QString notNull(const QString &s)
{
    return s.isNull() ? QStringLiteral("") : s;
}

// Migration N takes a file from schema N-1 to N. Never edit one that has shipped: add the next.
const QList<QStringList> &migrations()
{
    static const QList<QStringList> m {
        // 1: the journal (local audit log) of every attempt made from this console.
        { QStringLiteral("CREATE TABLE journal (id INTEGER PRIMARY KEY AUTOINCREMENT, at_ms INTEGER NOT NULL, "
                         "kind TEXT NOT NULL, actor TEXT NOT NULL, target TEXT NOT NULL, summary TEXT NOT NULL, "
                         "payload BLOB, outcome TEXT NOT NULL)"),
            QStringLiteral("CREATE INDEX journal_at ON journal(at_ms)") },
        // 2: the status-update outbox: updates kept until the status page has them, delivered in order.
        { QStringLiteral("CREATE TABLE outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, created_ms INTEGER NOT NULL, "
                         "idempotency_key TEXT NOT NULL UNIQUE, payload BLOB NOT NULL, state TEXT NOT NULL, "
                         "attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT)") },
        // 3: what the status page answered (the incident id), and the kind and target of each queued write.
        { QStringLiteral("ALTER TABLE outbox ADD COLUMN result TEXT NOT NULL DEFAULT ''"),
            QStringLiteral("ALTER TABLE outbox ADD COLUMN kind TEXT NOT NULL DEFAULT ''"),
            QStringLiteral("ALTER TABLE outbox ADD COLUMN summary TEXT NOT NULL DEFAULT ''"),
            QStringLiteral("CREATE INDEX outbox_state ON outbox(state)"),
            // Which process delivers (the console and fleetctl share the file): one at a time, by lease.
            QStringLiteral("CREATE TABLE outbox_lease (id INTEGER PRIMARY KEY CHECK (id = 1), owner TEXT NOT NULL, "
                           "until_ms INTEGER NOT NULL)") },
    };
    static_assert(LocalStore::kSchemaVersion == 3, "add the migration for the new version");
    return m;
}

bool looksFull(const QString &sqlError)
{
    return sqlError.contains(QLatin1String("full"), Qt::CaseInsensitive)
        || sqlError.contains(QLatin1String("disk I/O"), Qt::CaseInsensitive);
}

} // namespace

LocalStore::LocalStore(QObject *parent)
    : QObject(parent)
{
    qRegisterMetaType<JournalEntry>();
}

LocalStore::~LocalStore()
{
    close();
}

QString LocalStore::defaultPath()
{
    const QString overridden = qEnvironmentVariable("FLEET_CONSOLE_DATA");
    const QString dir
        = overridden.isEmpty() ? QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) : overridden;
    return QDir(dir).filePath(QStringLiteral("fleet-console.sqlite"));
}

Status LocalStore::fail(const QString &message)
{
    m_lastError = message;
    qCWarning(lcStore).noquote() << message;
    return Status::failure(message);
}

QString LocalStore::describeSqlError(const QString &doing, const QString &sqlError) const
{
    if (looksFull(sqlError))
        return tr("Could not %1 in %2: the disk is full or failing (%3). Nothing already stored was lost; free some "
                  "space and try again.")
            .arg(doing, m_path, sqlError);
    if (sqlError.contains(QLatin1String("readonly"), Qt::CaseInsensitive)
        || sqlError.contains(QLatin1String("read-only"), Qt::CaseInsensitive))
        return tr("Could not %1 in %2: the file or its folder is read-only (%3). Nothing already stored was lost; "
                  "make the folder writable or set FLEET_CONSOLE_DATA to another folder.")
            .arg(doing, m_path, sqlError);
    return tr("Could not %1 in %2: %3. Nothing already stored was lost.").arg(doing, m_path, sqlError);
}

Status LocalStore::open(const QString &path)
{
    close();
    m_path = path;
    m_lastError.clear();
    const QFileInfo info(path);
    if (!QDir().mkpath(info.absolutePath()))
        return fail(tr("Could not create the folder %1 for the console's local store. Make it writable, or set "
                       "FLEET_CONSOLE_DATA to a folder that is.")
                        .arg(info.absolutePath()));
    // SQLite in WAL mode writes two files beside the database: the folder itself must be writable.
    const QFileInfo folder(info.absolutePath());
    if (!folder.isWritable())
        return fail(tr("The folder %1 is read-only, so the console cannot keep its local store (the audit log of "
                       "actions and queued status updates) there. Make it writable, or set FLEET_CONSOLE_DATA to a "
                       "folder that is.")
                        .arg(info.absolutePath()));
    if (info.exists() && !info.isWritable())
        return fail(tr("The console's local store %1 is read-only. Make it writable, or set FLEET_CONSOLE_DATA to "
                       "another folder.")
                        .arg(path));

    const QString name = QStringLiteral("fleet-local-") + QUuid::createUuid().toString(QUuid::WithoutBraces);
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
        if (!db.isValid()) {
            QSqlDatabase::removeDatabase(name);
            return fail(tr("Qt's SQLite driver is missing, so the console cannot keep its local store. Install the "
                           "package libqt6sql6-sqlite."));
        }
        db.setDatabaseName(path);
        db.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=2000"));
        if (!db.open()) {
            const QString e = db.lastError().text();
            db = QSqlDatabase();
            QSqlDatabase::removeDatabase(name);
            return fail(describeSqlError(tr("open the local store"), e));
        }
    }
    m_connection = name;
    QSqlDatabase db = QSqlDatabase::database(m_connection, false);
    QSqlQuery q(db);
    // A file that is not a database (or a damaged one) fails here, before anything is written to it.
    if (!q.exec(QStringLiteral("PRAGMA quick_check")) || !q.next() || q.value(0).toString() != QLatin1String("ok")) {
        const QString why = q.lastError().isValid() ? q.lastError().text() : q.value(0).toString();
        close();
        return fail(tr("The console's local store %1 is damaged or is not a database (%2). It was left as it is, so "
                       "nothing in it is lost: move it aside (the console then starts a new one) or restore it from a "
                       "backup.")
                        .arg(path, why));
    }
    const int version = schemaVersion();
    if (version > kSchemaVersion) {
        close();
        return fail(tr("The console's local store %1 was written by a newer Fleet Console (schema %2; this one knows "
                       "up to %3). It was left as it is: use the newer console, or move the file aside to start a new "
                       "store with this one.")
                        .arg(path)
                        .arg(version)
                        .arg(kSchemaVersion));
    }
    if (!q.exec(QStringLiteral("PRAGMA journal_mode=WAL")) || !q.next()
        || q.value(0).toString().compare(QLatin1String("wal"), Qt::CaseInsensitive) != 0) {
        const QString e = q.lastError().text();
        close();
        return fail(describeSqlError(tr("switch the local store to WAL mode"), e));
    }
    q.exec(QStringLiteral("PRAGMA synchronous=NORMAL"));
    if (Status migrated = migrate(); !migrated) {
        close();
        return migrated;
    }
    qCInfo(lcStore).noquote() << "local store" << path << "open, schema" << schemaVersion();
    return Status::success();
}

void LocalStore::close()
{
    if (m_connection.isEmpty())
        return;
    {
        QSqlDatabase db = QSqlDatabase::database(m_connection, false);
        db.close();
    }
    QSqlDatabase::removeDatabase(m_connection);
    m_connection.clear();
}

int LocalStore::schemaVersion() const
{
    if (m_connection.isEmpty())
        return 0;
    QSqlQuery q(QSqlDatabase::database(m_connection, false));
    if (!q.exec(QStringLiteral("PRAGMA user_version")) || !q.next())
        return 0;
    return q.value(0).toInt();
}

Status LocalStore::migrate()
{
    QSqlDatabase db = QSqlDatabase::database(m_connection, false);
    for (int version = schemaVersion(); version < kSchemaVersion; ++version) {
        // Each step in one transaction: a failed migration leaves the file at the version it had.
        if (!db.transaction())
            return fail(describeSqlError(tr("upgrade the local store"), db.lastError().text()));
        QSqlQuery q(db);
        for (const QString &statement : migrations()[version]) {
            if (!q.exec(statement)) {
                const QString e = q.lastError().text();
                db.rollback();
                return fail(describeSqlError(tr("upgrade the local store to schema %1").arg(version + 1), e));
            }
        }
        if (!q.exec(QStringLiteral("PRAGMA user_version = %1").arg(version + 1)) || !db.commit()) {
            const QString e = q.lastError().isValid() ? q.lastError().text() : db.lastError().text();
            db.rollback();
            return fail(describeSqlError(tr("upgrade the local store to schema %1").arg(version + 1), e));
        }
        qCInfo(lcStore).noquote() << "local store" << m_path << "migrated to schema" << version + 1;
    }
    return Status::success();
}

Result<qint64> LocalStore::appendJournal(const JournalEntry &entry)
{
    if (m_connection.isEmpty())
        return Result<qint64>::failure(
            m_lastError.isEmpty() ? tr("The console's local store is not open.") : m_lastError);
    QSqlQuery q(QSqlDatabase::database(m_connection, false));
    q.prepare(QStringLiteral("INSERT INTO journal (at_ms, kind, actor, target, summary, payload, outcome) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?)"));
    JournalEntry stored = entry;
    if (stored.atMs == 0)
        stored.atMs = QDateTime::currentMSecsSinceEpoch();
    q.addBindValue(stored.atMs);
    q.addBindValue(notNull(stored.kind));
    q.addBindValue(notNull(stored.actor));
    q.addBindValue(notNull(stored.target));
    q.addBindValue(notNull(stored.summary));
    q.addBindValue(stored.payload);
    q.addBindValue(notNull(stored.outcome));
    if (!q.exec()) {
        const QString message = describeSqlError(tr("record “%1”").arg(entry.summary), q.lastError().text());
        m_lastError = message;
        qCWarning(lcStore).noquote() << message;
        Q_EMIT writeFailed(message);
        return Result<qint64>::failure(message);
    }
    stored.id = q.lastInsertId().toLongLong();
    Q_EMIT journalAppended(stored);
    return Result<qint64>::success(stored.id);
}

Status LocalStore::setJournalOutcome(qint64 id, const QString &outcome)
{
    if (m_connection.isEmpty())
        return fail(tr("The console's local store is not open."));
    QSqlQuery q(QSqlDatabase::database(m_connection, false));
    q.prepare(QStringLiteral("UPDATE journal SET outcome = ? WHERE id = ?"));
    q.addBindValue(notNull(outcome));
    q.addBindValue(id);
    if (!q.exec()) {
        const QString message = describeSqlError(tr("record the outcome of entry %1").arg(id), q.lastError().text());
        Q_EMIT writeFailed(message);
        return fail(message);
    }
    if (q.numRowsAffected() != 1)
        return fail(tr("The local store has no journal entry %1.").arg(id));
    return Status::success();
}

Result<QList<LocalStore::JournalEntry>> LocalStore::journal(int newestCount) const
{
    using R = Result<QList<JournalEntry>>;
    if (m_connection.isEmpty())
        return R::failure(m_lastError.isEmpty() ? tr("The console's local store is not open.") : m_lastError);
    QSqlQuery q(QSqlDatabase::database(m_connection, false));
    q.prepare(QStringLiteral("SELECT id, at_ms, kind, actor, target, summary, payload, outcome FROM journal "
                             "ORDER BY id DESC LIMIT ?"));
    q.addBindValue(std::max(0, newestCount));
    if (!q.exec())
        return R::failure(describeSqlError(tr("read the journal"), q.lastError().text()));
    QList<JournalEntry> out;
    while (q.next()) {
        out.prepend(JournalEntry { q.value(0).toLongLong(), q.value(1).toLongLong(), q.value(2).toString(),
            q.value(3).toString(), q.value(4).toString(), q.value(5).toString(), q.value(6).toByteArray(),
            q.value(7).toString() });
    }
    return R::success(out);
}

Result<qint64> LocalStore::appendOutbox(const OutboxEntry &entry)
{
    if (m_connection.isEmpty())
        return Result<qint64>::failure(
            m_lastError.isEmpty() ? tr("The console's local store is not open.") : m_lastError);
    QSqlQuery q(QSqlDatabase::database(m_connection, false));
    q.prepare(QStringLiteral("INSERT INTO outbox (created_ms, idempotency_key, payload, state, attempts, last_error, "
                             "result, kind, summary) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    q.addBindValue(entry.createdMs > 0 ? entry.createdMs : QDateTime::currentMSecsSinceEpoch());
    q.addBindValue(notNull(entry.key));
    q.addBindValue(entry.payload);
    q.addBindValue(notNull(entry.state));
    q.addBindValue(entry.attempts);
    q.addBindValue(notNull(entry.lastError));
    q.addBindValue(notNull(entry.result));
    q.addBindValue(notNull(entry.kind));
    q.addBindValue(notNull(entry.summary));
    if (!q.exec()) {
        const QString message = describeSqlError(tr("queue “%1”").arg(entry.summary), q.lastError().text());
        m_lastError = message;
        qCWarning(lcStore).noquote() << message;
        Q_EMIT writeFailed(message);
        return Result<qint64>::failure(message);
    }
    return Result<qint64>::success(q.lastInsertId().toLongLong());
}

Status LocalStore::updateOutbox(const OutboxEntry &entry)
{
    if (m_connection.isEmpty())
        return fail(tr("The console's local store is not open."));
    QSqlQuery q(QSqlDatabase::database(m_connection, false));
    q.prepare(QStringLiteral("UPDATE outbox SET state = ?, attempts = ?, last_error = ?, result = ?, payload = ? "
                             "WHERE id = ?"));
    q.addBindValue(notNull(entry.state));
    q.addBindValue(entry.attempts);
    q.addBindValue(notNull(entry.lastError));
    q.addBindValue(notNull(entry.result));
    q.addBindValue(entry.payload);
    q.addBindValue(entry.id);
    if (!q.exec()) {
        const QString message
            = describeSqlError(tr("record the state of queued update %1").arg(entry.id), q.lastError().text());
        Q_EMIT writeFailed(message);
        return fail(message);
    }
    if (q.numRowsAffected() != 1)
        return fail(tr("The local store has no queued update %1.").arg(entry.id));
    return Status::success();
}

Result<QString> LocalStore::claimOutbox(
    const QString &owner, qint64 forMs, const std::function<bool(const QString &)> &isDeadProcess)
{
    using R = Result<QString>;
    if (m_connection.isEmpty())
        return R::failure(m_lastError.isEmpty() ? tr("The console's local store is not open.") : m_lastError);
    QSqlDatabase db = QSqlDatabase::database(m_connection, false);
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    // A holder that died (killed mid-send, say) frees the lease at once: the console restarted after a crash
    // does not wait out the old process's lease.
    if (isDeadProcess) {
        QSqlQuery holder(db);
        if (holder.exec(QStringLiteral("SELECT owner FROM outbox_lease WHERE id = 1")) && holder.next()) {
            const QString current = holder.value(0).toString();
            if (current != owner && isDeadProcess(current)) {
                QSqlQuery drop(db);
                drop.prepare(QStringLiteral("DELETE FROM outbox_lease WHERE id = 1 AND owner = ?"));
                drop.addBindValue(current);
                drop.exec();
            }
        }
    }
    // One statement, so two processes cannot both take it: taken when free, expired, or already ours.
    QSqlQuery q(db);
    q.prepare(QStringLiteral("INSERT INTO outbox_lease (id, owner, until_ms) VALUES (1, ?, ?) ON CONFLICT(id) DO "
                             "UPDATE SET owner = excluded.owner, until_ms = excluded.until_ms WHERE "
                             "outbox_lease.owner = excluded.owner OR outbox_lease.until_ms < ?"));
    q.addBindValue(owner);
    q.addBindValue(now + forMs);
    q.addBindValue(now);
    if (!q.exec())
        return R::failure(describeSqlError(tr("take over delivering the status-update outbox"), q.lastError().text()));
    QSqlQuery who(db);
    if (!who.exec(QStringLiteral("SELECT owner FROM outbox_lease WHERE id = 1")) || !who.next())
        return R::failure(describeSqlError(tr("read who delivers the status-update outbox"), who.lastError().text()));
    return R::success(who.value(0).toString());
}

void LocalStore::releaseOutbox(const QString &owner)
{
    if (m_connection.isEmpty())
        return;
    QSqlQuery q(QSqlDatabase::database(m_connection, false));
    q.prepare(QStringLiteral("DELETE FROM outbox_lease WHERE owner = ?"));
    q.addBindValue(owner);
    q.exec();
}

Result<QList<LocalStore::OutboxEntry>> LocalStore::outbox(int newestCount) const
{
    using R = Result<QList<OutboxEntry>>;
    if (m_connection.isEmpty())
        return R::failure(m_lastError.isEmpty() ? tr("The console's local store is not open.") : m_lastError);
    QSqlQuery q(QSqlDatabase::database(m_connection, false));
    // Everything not yet delivered, however old, and the newest of the rest.
    q.prepare(QStringLiteral("SELECT id, created_ms, idempotency_key, payload, state, attempts, last_error, result, "
                             "kind, summary FROM outbox WHERE state NOT IN ('delivered', 'failed') OR id IN "
                             "(SELECT id FROM outbox ORDER BY id DESC LIMIT ?) ORDER BY id"));
    q.addBindValue(std::max(0, newestCount));
    if (!q.exec())
        return R::failure(describeSqlError(tr("read the status-update outbox"), q.lastError().text()));
    QList<OutboxEntry> out;
    while (q.next()) {
        out << OutboxEntry { q.value(0).toLongLong(), q.value(1).toLongLong(), q.value(2).toString(),
            q.value(3).toByteArray(), q.value(4).toString(), q.value(5).toInt(), q.value(6).toString(),
            q.value(7).toString(), q.value(8).toString(), q.value(9).toString() };
    }
    return R::success(out);
}

} // namespace fleet
