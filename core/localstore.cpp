#include "localstore.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QLoggingCategory>
#include <QPointer>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QStandardPaths>
#include <QThread>
#include <QTimer>
#include <QUuid>

#include <optional>

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
        // 4: the incident record (issue #24), per fleet: events as bundle lines, blocks of health samples
        // (compressed bundle lines), and the fleet's regions and thresholds. at_ms and second are the fleet's time;
        // recorded_ms the wall clock's, which retention counts by.
        { QStringLiteral("CREATE TABLE record_events (fleet TEXT NOT NULL, key TEXT NOT NULL, at_ms INTEGER NOT NULL, "
                         "kind TEXT NOT NULL, region TEXT NOT NULL, line BLOB NOT NULL, recorded_ms INTEGER NOT NULL, "
                         "PRIMARY KEY (fleet, key))"),
            QStringLiteral("CREATE INDEX record_events_at ON record_events(fleet, at_ms)"),
            QStringLiteral("CREATE TABLE record_samples (fleet TEXT NOT NULL, region TEXT NOT NULL, second INTEGER NOT "
                           "NULL, line BLOB NOT NULL, recorded_ms INTEGER NOT NULL, PRIMARY KEY (fleet, region, "
                           "second))"),
            QStringLiteral("CREATE INDEX record_samples_at ON record_samples(fleet, second)"),
            QStringLiteral("CREATE TABLE record_meta (fleet TEXT NOT NULL, name TEXT NOT NULL, value BLOB NOT NULL, "
                           "PRIMARY KEY (fleet, name))") },
    };
    static_assert(LocalStore::kSchemaVersion == 4, "add the migration for the new version");
    return m;
}

bool looksFull(const QString &sqlError)
{
    return sqlError.contains(QLatin1String("full"), Qt::CaseInsensitive)
        || sqlError.contains(QLatin1String("disk I/O"), Qt::CaseInsensitive);
}

// What the disk may take later: full, read-only for now, or another process holding the file.
bool mayPass(const QString &sqlError)
{
    return looksFull(sqlError) || sqlError.contains(QLatin1String("readonly"), Qt::CaseInsensitive)
        || sqlError.contains(QLatin1String("read-only"), Qt::CaseInsensitive)
        || sqlError.contains(QLatin1String("locked"), Qt::CaseInsensitive)
        || sqlError.contains(QLatin1String("busy"), Qt::CaseInsensitive);
}

QString describeSqlError(const QString &path, const QString &doing, const QString &sqlError)
{
    if (looksFull(sqlError))
        return LocalStore::tr("Could not %1 in %2: the disk is full or failing (%3). Nothing already stored was lost; "
                              "free some space and try again.")
            .arg(doing, path, sqlError);
    if (sqlError.contains(QLatin1String("readonly"), Qt::CaseInsensitive)
        || sqlError.contains(QLatin1String("read-only"), Qt::CaseInsensitive))
        return LocalStore::tr("Could not %1 in %2: the file or its folder is read-only (%3). Nothing already stored "
                              "was lost; make the folder writable or set FLEET_CONSOLE_DATA to another folder.")
            .arg(doing, path, sqlError);
    return LocalStore::tr("Could not %1 in %2: %3. Nothing already stored was lost.").arg(doing, path, sqlError);
}

LocalStore::JournalEntry journalRow(const QSqlQuery &q)
{
    return LocalStore::JournalEntry { q.value(0).toLongLong(), q.value(1).toLongLong(), q.value(2).toString(),
        q.value(3).toString(), q.value(4).toString(), q.value(5).toString(), q.value(6).toByteArray(),
        q.value(7).toString() };
}

constexpr int kRetryMs = 5000; // a write the disk refused is tried again this often

} // namespace

// One write for the writer thread: what it is in words, the outbox entry it touches, the statement.
struct LocalStore::Write
{
    QString what;
    qint64 outboxId = 0;
    std::function<QString(QSqlDatabase &)> run; // the SQL error, empty once it is on disk
};

// The writer thread's side: the one SQLite connection, and the writes the disk refused, in order.
struct LocalStore::Worker : QObject
{
    explicit Worker(LocalStore *owner)
        : store(owner)
        , retry(new QTimer(this))
    {
        retry->setSingleShot(true);
        retry->setInterval(kRetryMs);
        connect(retry, &QTimer::timeout, this, [this] { tryKept(); });
    }

    QSqlDatabase db() const { return QSqlDatabase::database(connection, false); }

    Status open(const QString &file, int *version, QList<JournalEntry> *journal);
    void close();
    Status migrate();
    int schemaVersion() const;
    Status fail(const QString &message)
    {
        qCWarning(lcStore).noquote() << message;
        return Status::failure(message);
    }
    Result<QList<OutboxEntry>> readOutbox(int newestCount);
    Result<QString> claim(const QString &owner, qint64 forMs, const std::function<bool(const QString &)> &isDead);

    void write(const Write &w)
    {
        tryKept();
        if (!kept.isEmpty()) {
            kept << w; // behind a refused one: the order is kept
            return;
        }
        const QString e = w.run(*database);
        if (e.isEmpty()) {
            done(w.outboxId, QString());
        } else if (mayPass(e)) {
            kept << w;
            keptError = describeSqlError(path, w.what, e)
                + LocalStore::tr(" It is kept in memory and written as soon as the disk takes it.");
            qCWarning(lcStore).noquote() << keptError;
            const QString message = keptError;
            QMetaObject::invokeMethod(
                store, [s = store, g = generation, message] { s->refused(g, message); }, Qt::QueuedConnection);
            retry->start();
        } else {
            done(w.outboxId, describeSqlError(path, w.what, e));
        }
    }

    void tryKept()
    {
        const bool had = !kept.isEmpty();
        while (!kept.isEmpty()) {
            const QString e = kept.front().run(*database);
            if (!e.isEmpty() && mayPass(e))
                break;
            const Write w = kept.takeFirst();
            done(w.outboxId, e.isEmpty() ? QString() : describeSqlError(path, w.what, e));
        }
        if (!kept.isEmpty()) {
            retry->start();
        } else if (had) {
            keptError.clear();
            QMetaObject::invokeMethod(
                store, [s = store, g = generation] { s->caughtUp(g); }, Qt::QueuedConnection);
        }
    }

    void done(qint64 outboxId, const QString &error)
    {
        if (!error.isEmpty())
            qCWarning(lcStore).noquote() << error;
        QMetaObject::invokeMethod(
            store, [s = store, g = generation, outboxId, error] { s->written(g, outboxId, error); },
            Qt::QueuedConnection);
    }

    LocalStore *store;
    QTimer *retry;
    QString connection; // empty when closed
    QString path;
    std::optional<QSqlDatabase> database;
    QList<Write> kept;
    QString keptError;
    int generation = 0; // of the open file: what it reports about a file closed since is not counted
};

Status LocalStore::Worker::open(const QString &file, int *version, QList<JournalEntry> *journal)
{
    close();
    path = file;
    const QFileInfo info(file);
    if (!QDir().mkpath(info.absolutePath()))
        return fail(
            LocalStore::tr("Could not create the folder %1 for the console's local store. Make it writable, or set "
                           "FLEET_CONSOLE_DATA to a folder that is.")
                .arg(info.absolutePath()));
    // SQLite in WAL mode writes two files beside the database: the folder itself must be writable.
    const QFileInfo folder(info.absolutePath());
    if (!folder.isWritable())
        return fail(
            LocalStore::tr("The folder %1 is read-only, so the console cannot keep its local store (the audit log of "
                           "actions and queued status updates) there. Make it writable, or set FLEET_CONSOLE_DATA to a "
                           "folder that is.")
                .arg(info.absolutePath()));
    if (info.exists() && !info.isWritable())
        return fail(
            LocalStore::tr("The console's local store %1 is read-only. Make it writable, or set FLEET_CONSOLE_DATA to "
                           "another folder.")
                .arg(file));

    const QString name = QStringLiteral("fleet-local-") + QUuid::createUuid().toString(QUuid::WithoutBraces);
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
        if (!db.isValid()) {
            QSqlDatabase::removeDatabase(name);
            return fail(
                LocalStore::tr("Qt's SQLite driver is missing, so the console cannot keep its local store. Install the "
                               "package libqt6sql6-sqlite."));
        }
        db.setDatabaseName(file);
        db.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=2000"));
        if (!db.open()) {
            const QString e = db.lastError().text();
            db = QSqlDatabase();
            QSqlDatabase::removeDatabase(name);
            return fail(describeSqlError(path, LocalStore::tr("open the local store"), e));
        }
    }
    connection = name;
    database = QSqlDatabase::database(connection, false);
    QSqlQuery q(*database);
    // A file that is not a database (or a damaged one) fails here, before anything is written to it.
    if (!q.exec(QStringLiteral("PRAGMA quick_check")) || !q.next() || q.value(0).toString() != QLatin1String("ok")) {
        const QString why = q.lastError().isValid() ? q.lastError().text() : q.value(0).toString();
        close();
        return fail(LocalStore::tr(
            "The console's local store %1 is damaged or is not a database (%2). It was left as it is, so "
            "nothing in it is lost: move it aside (the console then starts a new one) or restore it from a "
            "backup.")
                        .arg(file, why));
    }
    const int found = schemaVersion();
    if (found > kSchemaVersion) {
        close();
        return fail(LocalStore::tr(
            "The console's local store %1 was written by a newer Fleet Console (schema %2; this one knows "
            "up to %3). It was left as it is: use the newer console, or move the file aside to start a new "
            "store with this one.")
                        .arg(file)
                        .arg(found)
                        .arg(kSchemaVersion));
    }
    if (!q.exec(QStringLiteral("PRAGMA journal_mode=WAL")) || !q.next()
        || q.value(0).toString().compare(QLatin1String("wal"), Qt::CaseInsensitive) != 0) {
        const QString e = q.lastError().text();
        close();
        return fail(describeSqlError(path, LocalStore::tr("switch the local store to WAL mode"), e));
    }
    q.exec(QStringLiteral("PRAGMA synchronous=NORMAL"));
    if (Status migrated = migrate(); !migrated) {
        close();
        return migrated;
    }
    *version = schemaVersion();
    QSqlQuery rows(*database);
    rows.prepare(QStringLiteral("SELECT id, at_ms, kind, actor, target, summary, payload, outcome FROM journal "
                                "ORDER BY id DESC LIMIT ?"));
    rows.addBindValue(kJournalInMemory);
    if (!rows.exec()) {
        const QString e = rows.lastError().text();
        close();
        return fail(describeSqlError(path, LocalStore::tr("read the journal"), e));
    }
    while (rows.next())
        journal->prepend(journalRow(rows));
    qCInfo(lcStore).noquote() << "local store" << file << "open, schema" << *version;
    return Status::success();
}

void LocalStore::Worker::close()
{
    retry->stop();
    if (connection.isEmpty())
        return;
    database.reset();
    {
        QSqlDatabase db = QSqlDatabase::database(connection, false);
        db.close();
    }
    QSqlDatabase::removeDatabase(connection);
    connection.clear();
}

int LocalStore::Worker::schemaVersion() const
{
    QSqlQuery q(*database);
    if (!q.exec(QStringLiteral("PRAGMA user_version")) || !q.next())
        return 0;
    return q.value(0).toInt();
}

Status LocalStore::Worker::migrate()
{
    QSqlDatabase &db = *database;
    for (int version = schemaVersion(); version < kSchemaVersion; ++version) {
        // Each step in one transaction: a failed migration leaves the file at the version it had.
        if (!db.transaction())
            return fail(describeSqlError(path, LocalStore::tr("upgrade the local store"), db.lastError().text()));
        QSqlQuery q(db);
        for (const QString &statement : migrations()[version]) {
            if (!q.exec(statement)) {
                const QString e = q.lastError().text();
                db.rollback();
                return fail(
                    describeSqlError(path, LocalStore::tr("upgrade the local store to schema %1").arg(version + 1), e));
            }
        }
        if (!q.exec(QStringLiteral("PRAGMA user_version = %1").arg(version + 1)) || !db.commit()) {
            const QString e = q.lastError().isValid() ? q.lastError().text() : db.lastError().text();
            db.rollback();
            return fail(
                describeSqlError(path, LocalStore::tr("upgrade the local store to schema %1").arg(version + 1), e));
        }
        qCInfo(lcStore).noquote() << "local store" << path << "migrated to schema" << version + 1;
    }
    return Status::success();
}

Result<QList<LocalStore::OutboxEntry>> LocalStore::Worker::readOutbox(int newestCount)
{
    using R = Result<QList<OutboxEntry>>;
    QSqlQuery q(*database);
    // Everything not yet delivered, however old, and the newest of the rest.
    q.prepare(QStringLiteral("SELECT id, created_ms, idempotency_key, payload, state, attempts, last_error, result, "
                             "kind, summary FROM outbox WHERE state NOT IN ('delivered', 'failed') OR id IN "
                             "(SELECT id FROM outbox ORDER BY id DESC LIMIT ?) ORDER BY id"));
    q.addBindValue(std::max(0, newestCount));
    if (!q.exec())
        return R::failure(
            describeSqlError(path, LocalStore::tr("read the status-update outbox"), q.lastError().text()));
    QList<OutboxEntry> out;
    while (q.next()) {
        out << OutboxEntry { q.value(0).toLongLong(), q.value(1).toLongLong(), q.value(2).toString(),
            q.value(3).toByteArray(), q.value(4).toString(), q.value(5).toInt(), q.value(6).toString(),
            q.value(7).toString(), q.value(8).toString(), q.value(9).toString() };
    }
    return R::success(out);
}

Result<QString> LocalStore::Worker::claim(
    const QString &owner, qint64 forMs, const std::function<bool(const QString &)> &isDeadProcess)
{
    using R = Result<QString>;
    QSqlDatabase &db = *database;
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
        return R::failure(describeSqlError(
            path, LocalStore::tr("take over delivering the status-update outbox"), q.lastError().text()));
    QSqlQuery who(db);
    if (!who.exec(QStringLiteral("SELECT owner FROM outbox_lease WHERE id = 1")) || !who.next())
        return R::failure(describeSqlError(
            path, LocalStore::tr("read who delivers the status-update outbox"), who.lastError().text()));
    return R::success(who.value(0).toString());
}

LocalStore::LocalStore(QObject *parent)
    : QObject(parent)
    , m_worker(new Worker(this))
    , m_thread(new QThread(this))
{
    qRegisterMetaType<JournalEntry>();
    m_thread->setObjectName(QStringLiteral("fleet-store"));
    m_worker->moveToThread(m_thread);
    m_thread->start();
}

LocalStore::~LocalStore()
{
    close();
    m_thread->quit();
    m_thread->wait();
    delete m_worker;
}

QString LocalStore::defaultPath()
{
    const QString overridden = qEnvironmentVariable("FLEET_CONSOLE_DATA");
    const QString dir
        = overridden.isEmpty() ? QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) : overridden;
    return QDir(dir).filePath(QStringLiteral("fleet-console.sqlite"));
}

Status LocalStore::notOpen() const
{
    return Status::failure(m_lastError.isEmpty() ? tr("The console's local store is not open.") : m_lastError);
}

Status LocalStore::open(const QString &path)
{
    close();
    m_path = path;
    m_lastError.clear();
    Status opened = Status::success();
    int version = 0;
    QList<JournalEntry> journal;
    const int generation = ++m_generation;
    QMetaObject::invokeMethod(
        m_worker,
        [&] {
            m_worker->generation = generation;
            opened = m_worker->open(path, &version, &journal);
        },
        Qt::BlockingQueuedConnection);
    if (!opened) {
        m_lastError = opened.error();
        return opened;
    }
    m_open = true;
    m_schemaVersion = version;
    m_journal = std::move(journal);
    return Status::success();
}

void LocalStore::close()
{
    if (!m_open)
        return;
    QStringList lost;
    QMetaObject::invokeMethod(
        m_worker,
        [&] {
            m_worker->tryKept();
            for (const Write &w : std::as_const(m_worker->kept))
                lost << w.what;
            m_worker->kept.clear();
            m_worker->close();
        },
        Qt::BlockingQueuedConnection);
    for (const QString &what : std::as_const(lost))
        qCCritical(lcStore).noquote() << "closed with a write the disk still refused, not kept:" << what << "-"
                                      << m_lastError;
    m_open = false;
    m_journal.clear();
    m_unwrittenOutbox.clear();
    m_unwritten = 0;
    m_failing = false;
}

qint64 LocalStore::nextId()
{
    // Known at once and never reused: the time in ms x 1000 + this process's id mod 1000, one step of 1000 past
    // the last one this process gave when two come in the same millisecond.
    const qint64 candidate = QDateTime::currentMSecsSinceEpoch() * 1000 + QCoreApplication::applicationPid() % 1000;
    m_lastId = std::max(candidate, m_lastId + 1000);
    return m_lastId;
}

void LocalStore::post(Write write)
{
    ++m_unwritten;
    if (write.outboxId > 0)
        ++m_unwrittenOutbox[write.outboxId];
    QMetaObject::invokeMethod(
        m_worker, [w = m_worker, write = std::move(write)] { w->write(write); }, Qt::QueuedConnection);
}

void LocalStore::written(int generation, qint64 outboxId, const QString &error)
{
    if (!m_open || generation != m_generation)
        return;
    m_unwritten = std::max(0, m_unwritten - 1);
    if (outboxId > 0 && --m_unwrittenOutbox[outboxId] <= 0)
        m_unwrittenOutbox.remove(outboxId);
    if (!error.isEmpty()) {
        m_lastError = error;
        Q_EMIT writeFailed(error);
    }
}

void LocalStore::refused(int generation, const QString &message)
{
    if (!m_open || generation != m_generation)
        return;
    m_lastError = message;
    m_failing = true;
    Q_EMIT writeFailed(message);
}

void LocalStore::caughtUp(int generation)
{
    if (generation != m_generation || !m_failing)
        return;
    m_failing = false;
    Q_EMIT writesCaughtUp();
}

Result<qint64> LocalStore::appendJournal(const JournalEntry &entry)
{
    if (!m_open)
        return Result<qint64>::failure(notOpen().error());
    JournalEntry stored = entry;
    stored.id = nextId();
    if (stored.atMs == 0)
        stored.atMs = QDateTime::currentMSecsSinceEpoch();
    m_journal.append(stored);
    if (m_journal.size() > kJournalInMemory)
        m_journal.removeFirst();
    post({ tr("record “%1”").arg(entry.summary), 0, [stored](QSqlDatabase &db) {
              QSqlQuery q(db);
              q.prepare(QStringLiteral("INSERT INTO journal (id, at_ms, kind, actor, target, summary, payload, "
                                       "outcome) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"));
              q.addBindValue(stored.id);
              q.addBindValue(stored.atMs);
              q.addBindValue(notNull(stored.kind));
              q.addBindValue(notNull(stored.actor));
              q.addBindValue(notNull(stored.target));
              q.addBindValue(notNull(stored.summary));
              q.addBindValue(stored.payload);
              q.addBindValue(notNull(stored.outcome));
              return q.exec() ? QString() : q.lastError().text();
          } });
    Q_EMIT journalAppended(stored);
    return Result<qint64>::success(stored.id);
}

Status LocalStore::setJournalOutcome(qint64 id, const QString &outcome)
{
    if (!m_open)
        return notOpen();
    // Only an entry the store holds in memory (the newest kJournalInMemory; an action's own entry always is).
    const auto it
        = std::find_if(m_journal.rbegin(), m_journal.rend(), [id](const JournalEntry &e) { return e.id == id; });
    if (it == m_journal.rend())
        return Status::failure(tr("The local store has no recent journal entry %1.").arg(id));
    it->outcome = outcome;
    post({ tr("record the outcome of entry %1").arg(id), 0, [id, outcome](QSqlDatabase &db) {
              QSqlQuery q(db);
              q.prepare(QStringLiteral("UPDATE journal SET outcome = ? WHERE id = ?"));
              q.addBindValue(notNull(outcome));
              q.addBindValue(id);
              if (!q.exec())
                  return q.lastError().text();
              return q.numRowsAffected() == 1 ? QString() : QStringLiteral("no journal entry %1").arg(id);
          } });
    return Status::success();
}

Result<QList<LocalStore::JournalEntry>> LocalStore::journal(int newestCount) const
{
    using R = Result<QList<JournalEntry>>;
    if (!m_open)
        return R::failure(notOpen().error());
    const qsizetype n = std::clamp<qsizetype>(newestCount, 0, m_journal.size());
    return R::success(m_journal.mid(m_journal.size() - n));
}

Result<qint64> LocalStore::appendOutbox(const OutboxEntry &entry)
{
    if (!m_open)
        return Result<qint64>::failure(notOpen().error());
    OutboxEntry stored = entry;
    stored.id = nextId();
    if (stored.createdMs <= 0)
        stored.createdMs = QDateTime::currentMSecsSinceEpoch();
    post({ tr("queue “%1”").arg(entry.summary), stored.id, [stored](QSqlDatabase &db) {
              QSqlQuery q(db);
              q.prepare(QStringLiteral("INSERT INTO outbox (id, created_ms, idempotency_key, payload, state, "
                                       "attempts, last_error, result, kind, summary) VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
                                       "?, ?)"));
              q.addBindValue(stored.id);
              q.addBindValue(stored.createdMs);
              q.addBindValue(notNull(stored.key));
              q.addBindValue(stored.payload);
              q.addBindValue(notNull(stored.state));
              q.addBindValue(stored.attempts);
              q.addBindValue(notNull(stored.lastError));
              q.addBindValue(notNull(stored.result));
              q.addBindValue(notNull(stored.kind));
              q.addBindValue(notNull(stored.summary));
              return q.exec() ? QString() : q.lastError().text();
          } });
    return Result<qint64>::success(stored.id);
}

Status LocalStore::updateOutbox(const OutboxEntry &entry)
{
    if (!m_open)
        return notOpen();
    post({ tr("record the state of queued update %1").arg(entry.id), entry.id, [entry](QSqlDatabase &db) {
              QSqlQuery q(db);
              q.prepare(QStringLiteral("UPDATE outbox SET state = ?, attempts = ?, last_error = ?, result = ?, "
                                       "payload = ? WHERE id = ?"));
              q.addBindValue(notNull(entry.state));
              q.addBindValue(entry.attempts);
              q.addBindValue(notNull(entry.lastError));
              q.addBindValue(notNull(entry.result));
              q.addBindValue(entry.payload);
              q.addBindValue(entry.id);
              if (!q.exec())
                  return q.lastError().text();
              return q.numRowsAffected() == 1 ? QString() : QStringLiteral("no queued update %1").arg(entry.id);
          } });
    return Status::success();
}

Result<QList<LocalStore::OutboxEntry>> LocalStore::outbox(int newestCount) const
{
    using R = Result<QList<OutboxEntry>>;
    if (!m_open)
        return R::failure(notOpen().error());
    R out = R::failure(QString());
    QMetaObject::invokeMethod(
        m_worker, [&] { out = m_worker->readOutbox(newestCount); }, Qt::BlockingQueuedConnection);
    return out;
}

void LocalStore::claimOutbox(const QString &owner, qint64 forMs, std::function<bool(const QString &)> isDeadProcess,
    QObject *context, std::function<void(OutboxClaim)> done)
{
    if (!m_open) {
        done(OutboxClaim { {}, {}, notOpen().error() });
        return;
    }
    QPointer<QObject> ctx(context);
    QMetaObject::invokeMethod(
        m_worker,
        [w = m_worker, owner, forMs, isDead = std::move(isDeadProcess), ctx, done = std::move(done)] {
            OutboxClaim c;
            if (auto entries = w->readOutbox(200); entries.ok())
                c.entries = entries.take();
            else
                c.error = entries.error();
            const bool pending = std::any_of(c.entries.cbegin(), c.entries.cend(), [](const OutboxEntry &e) {
                return e.state != QLatin1String("delivered") && e.state != QLatin1String("failed");
            });
            if (c.error.isEmpty() && pending) {
                if (auto holder = w->claim(owner, forMs, isDead); holder.ok())
                    c.holder = *holder;
                else
                    c.error = holder.error();
            }
            // Answered on the store's thread, where the caller's context lives, and only while it does.
            QMetaObject::invokeMethod(
                w->store,
                [ctx, done, c] {
                    if (ctx)
                        done(c);
                },
                Qt::QueuedConnection);
        },
        Qt::QueuedConnection);
}

void LocalStore::releaseOutbox(const QString &owner)
{
    if (!m_open)
        return;
    QMetaObject::invokeMethod(
        m_worker,
        [w = m_worker, owner] {
            QSqlQuery q(*w->database);
            q.prepare(QStringLiteral("DELETE FROM outbox_lease WHERE owner = ?"));
            q.addBindValue(owner);
            q.exec();
        },
        Qt::QueuedConnection);
}

void LocalStore::queueWrite(const QString &what, std::function<QString(QSqlDatabase &)> run)
{
    if (!m_open)
        return;
    post({ what, 0, std::move(run) });
}

void LocalStore::queueRead(QObject *context, std::function<std::function<void()>(QSqlDatabase &)> read)
{
    if (!m_open)
        return;
    QPointer<QObject> ctx(context);
    QMetaObject::invokeMethod(
        m_worker,
        [w = m_worker, ctx, read = std::move(read)] {
            std::function<void()> then = read(*w->database);
            QMetaObject::invokeMethod(
                w->store,
                [ctx, then = std::move(then)] {
                    if (ctx && then)
                        then();
                },
                Qt::QueuedConnection);
        },
        Qt::QueuedConnection);
}

Status LocalStore::readNow(const std::function<void(QSqlDatabase &)> &read) const
{
    if (!m_open)
        return notOpen();
    QMetaObject::invokeMethod(
        m_worker, [&] { read(*m_worker->database); }, Qt::BlockingQueuedConnection);
    return Status::success();
}

void LocalStore::whenWritten(QObject *context, std::function<void(Status)> done)
{
    if (!m_open) {
        done(notOpen());
        return;
    }
    QPointer<QObject> ctx(context);
    QMetaObject::invokeMethod(
        m_worker,
        [w = m_worker, ctx, done = std::move(done)] {
            w->tryKept();
            const Status s = w->kept.isEmpty() ? Status::success() : Status::failure(w->keptError);
            QMetaObject::invokeMethod(
                w->store,
                [ctx, done, s] {
                    if (ctx)
                        done(s);
                },
                Qt::QueuedConnection);
        },
        Qt::QueuedConnection);
}

} // namespace fleet
