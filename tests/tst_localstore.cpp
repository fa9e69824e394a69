// LocalStore against real SQLite files: a new store, reopening, migration from an older schema, a newer schema, a
// corrupt file, a read-only folder and a full disk (small tmpfs mounts where the test may mount, as CI's root may)
// whose writes are kept and land once there is room; writes off the caller's thread, in order.

#include "localstore.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QProcess>
#include <QSignalSpy>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

#include <optional>

#include <unistd.h>

using namespace fleet;

namespace {

QByteArray digest(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return QCryptographicHash::hash(f.readAll(), QCryptographicHash::Sha256);
}

LocalStore::JournalEntry entry(const QString &summary, const QByteArray &payload = "{}")
{
    LocalStore::JournalEntry e;
    e.kind = QStringLiteral("provision");
    e.actor = QStringLiteral("ana");
    e.target = QStringLiteral("eu-west");
    e.summary = summary;
    e.payload = payload;
    e.outcome = QStringLiteral("pending");
    return e;
}

// Runs SQL on a file with a connection of its own (to build old or strange files, and to look inside).
void rawSql(const QString &path, const QStringList &statements)
{
    const QString name = QStringLiteral("raw-%1").arg(quintptr(&path));
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
        db.setDatabaseName(path);
        QVERIFY(db.open());
        QSqlQuery q(db);
        for (const QString &s : statements)
            QVERIFY2(q.exec(s), qPrintable(s));
        db.close();
    }
    QSqlDatabase::removeDatabase(name);
}

// A tmpfs of `size` mounted on `dir` (read-only with `ro`), or an empty string with the reason it could not be.
QString mountTmpfs(const QString &dir, const QString &options)
{
    if (geteuid() != 0)
        return QStringLiteral("not root, so no tmpfs can be mounted here");
    const int rc = QProcess::execute(QStringLiteral("mount"),
        { QStringLiteral("-t"), QStringLiteral("tmpfs"), QStringLiteral("-o"), options, QStringLiteral("tmpfs"), dir });
    return rc == 0 ? QString() : QStringLiteral("mount -t tmpfs failed (exit %1)").arg(rc);
}

void unmount(const QString &dir)
{
    QProcess::execute(QStringLiteral("umount"), { dir });
}

} // namespace

class TestLocalStore : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init() { QVERIFY(m_dir.isValid()); }

    void newStoreIsCurrentWalAndKeepsEntriesAcrossReopen()
    {
        const QString path = m_dir.filePath(QStringLiteral("new/sub/fleet-console.sqlite"));
        {
            LocalStore store;
            const Status opened = store.open(path); // creates the folders too
            QVERIFY2(opened, qPrintable(opened.error()));
            QCOMPARE(store.schemaVersion(), LocalStore::kSchemaVersion);
            const Result<qint64> a = store.appendJournal(entry(QStringLiteral("provision 4 in eu-west")));
            QVERIFY2(a, qPrintable(a.error()));
            QVERIFY(store.appendJournal(entry(QStringLiteral("drain eu-central"))));
            QVERIFY(store.setJournalOutcome(a.value(), QStringLiteral("succeeded")));
            QVERIFY(!store.setJournalOutcome(9999, QStringLiteral("x")));
            QVERIFY(QFile::exists(path + QStringLiteral("-wal"))); // the WAL journal
        }
        LocalStore again;
        QVERIFY(again.open(path));
        const auto journal = again.journal();
        QVERIFY(journal);
        QCOMPARE(journal.value().size(), 2);
        QCOMPARE(journal.value()[0].summary, QStringLiteral("provision 4 in eu-west"));
        QCOMPARE(journal.value()[0].outcome, QStringLiteral("succeeded"));
        QCOMPARE(journal.value()[1].outcome, QStringLiteral("pending"));
        QVERIFY(journal.value()[0].atMs > 0);
        QCOMPARE(again.journal(1).value().size(), 1);
        QCOMPARE(again.journal(1).value()[0].summary, QStringLiteral("drain eu-central")); // the newest
    }

    void migratesAnOlderSchemaKeepingItsRows()
    {
        // A file as schema 1 left it: the journal with a row, no outbox.
        const QString path = m_dir.filePath(QStringLiteral("v1.sqlite"));
        rawSql(path,
            { QStringLiteral("CREATE TABLE journal (id INTEGER PRIMARY KEY AUTOINCREMENT, at_ms INTEGER NOT NULL, "
                             "kind TEXT NOT NULL, actor TEXT NOT NULL, target TEXT NOT NULL, summary TEXT NOT NULL, "
                             "payload BLOB, outcome TEXT NOT NULL)"),
                QStringLiteral("CREATE INDEX journal_at ON journal(at_ms)"),
                QStringLiteral("INSERT INTO journal (at_ms, kind, actor, target, summary, payload, outcome) VALUES "
                               "(1762938780000, 'provision', 'ana', 'eu-west', 'from version 1', '{}', 'succeeded')"),
                QStringLiteral("PRAGMA user_version = 1") });
        LocalStore store;
        const Status opened = store.open(path);
        QVERIFY2(opened, qPrintable(opened.error()));
        QCOMPARE(store.schemaVersion(), LocalStore::kSchemaVersion);
        QCOMPARE(store.journal().value().size(), 1);
        QCOMPARE(store.journal().value()[0].summary, QStringLiteral("from version 1"));
        store.close();
        rawSql(path,
            { QStringLiteral("INSERT INTO outbox (created_ms, idempotency_key, payload, state) VALUES "
                             "(1, 'k', '{}', 'queued')") }); // the table migration 2 made, with 3's defaults
        QVERIFY(store.open(path).ok());
        const auto outbox = store.outbox();
        QVERIFY(outbox.ok());
        QCOMPARE(outbox->size(), 1);
        QCOMPARE(outbox->front().state, QStringLiteral("queued"));
        QCOMPARE(outbox->front().result, QString());
    }

    void refusesANewerSchemaAndLeavesTheFileAlone()
    {
        const QString path = m_dir.filePath(QStringLiteral("newer.sqlite"));
        rawSql(path, { QStringLiteral("CREATE TABLE future (x)"), QStringLiteral("PRAGMA user_version = 99") });
        const QByteArray before = digest(path);
        LocalStore store;
        const Status opened = store.open(path);
        QVERIFY(!opened);
        QVERIFY2(opened.error().contains(QLatin1String("newer Fleet Console")), qPrintable(opened.error()));
        QVERIFY2(opened.error().contains(QLatin1String("99")), qPrintable(opened.error()));
        QVERIFY(!store.isOpen());
        QCOMPARE(digest(path), before);
        QVERIFY(!store.appendJournal(entry(QStringLiteral("x")))); // and nothing is written anywhere
    }

    void refusesACorruptFileAndLeavesItAlone()
    {
        const QString path = m_dir.filePath(QStringLiteral("corrupt.sqlite"));
        {
            QFile f(path);
            QVERIFY(f.open(QIODevice::WriteOnly));
            QByteArray junk(8192, '\0');
            for (int i = 0; i < junk.size(); ++i)
                junk[i] = char((i * 7919) % 251);
            f.write(junk);
        }
        const QByteArray before = digest(path);
        LocalStore store;
        const Status opened = store.open(path);
        QVERIFY(!opened);
        QVERIFY2(opened.error().contains(QLatin1String("damaged or is not a database")), qPrintable(opened.error()));
        QVERIFY2(opened.error().contains(QLatin1String("move it aside")), qPrintable(opened.error()));
        QCOMPARE(digest(path), before);
    }

    void readOnlyFolderIsExplained()
    {
        const QString dir = m_dir.filePath(QStringLiteral("ro"));
        QVERIFY(QDir().mkpath(dir));
        // Root ignores permission bits, so a read-only mount makes the folder really read-only; without root, the
        // permission bits do.
        const QString why = mountTmpfs(dir, QStringLiteral("ro,size=64k"));
        if (!why.isEmpty())
            QVERIFY(QFile::setPermissions(dir, QFile::ReadOwner | QFile::ExeOwner));
        LocalStore store;
        const Status opened = store.open(QDir(dir).filePath(QStringLiteral("fleet-console.sqlite")));
        if (why.isEmpty())
            unmount(dir);
        else
            QFile::setPermissions(dir, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
        QVERIFY(!opened);
        QVERIFY2(opened.error().contains(QLatin1String("read-only")), qPrintable(opened.error()));
        QVERIFY2(opened.error().contains(QLatin1String("FLEET_CONSOLE_DATA")), qPrintable(opened.error()));
    }

    void fullDiskKeepsEveryWriteUntilThereIsRoom()
    {
        const QString dir = m_dir.filePath(QStringLiteral("small"));
        QVERIFY(QDir().mkpath(dir));
        if (const QString why = mountTmpfs(dir, QStringLiteral("size=256k")); !why.isEmpty())
            QSKIP(qPrintable(QStringLiteral("full disk not tested: %1").arg(why)));
        const QString path = QDir(dir).filePath(QStringLiteral("fleet-console.sqlite"));
        const int count = 200;
        {
            LocalStore store;
            QString reported;
            connect(&store, &LocalStore::writeFailed, this, [&](const QString &m) { reported = m; });
            QSignalSpy caughtUp(&store, &LocalStore::writesCaughtUp);
            QVERIFY(store.open(path));
            const QByteArray payload(4096, 'x');
            // The caller never waits for the disk: every entry is taken and kept at once, full disk or not.
            for (int i = 0; i < count; ++i)
                QVERIFY(store.appendJournal(entry(QStringLiteral("entry %1").arg(i), payload)));
            QCOMPARE(store.journal(count)->size(), count);
            std::optional<Status> written;
            store.whenWritten(this, [&](const Status &s) { written = s; });
            QTRY_VERIFY_WITH_TIMEOUT(written.has_value(), 20000);
            QVERIFY2(!*written, "a 256 KB disk should fill up");
            const QString failure = written->error();
            QVERIFY2(failure.contains(QLatin1String("disk is full")), qPrintable(failure));
            QVERIFY2(failure.contains(QLatin1String("Nothing already stored was lost")), qPrintable(failure));
            QVERIFY2(failure.contains(QLatin1String("kept in memory")), qPrintable(failure));
            QVERIFY2(reported.contains(QLatin1String("disk is full")), qPrintable(reported)); // the banner hears too
            QVERIFY(store.unwrittenCount() > 0);
            QCOMPARE(caughtUp.count(), 0);
            // Room again, as a user freeing disk: the writes kept are tried again by themselves, in order.
            QCOMPARE(QProcess::execute(
                         QStringLiteral("mount"), { QStringLiteral("-o"), QStringLiteral("remount,size=16m"), dir }),
                0);
            QTRY_COMPARE_WITH_TIMEOUT(caughtUp.count(), 1, 20000);
            QCOMPARE(store.unwrittenCount(), 0);
        }
        LocalStore again;
        const Status reopened = again.open(path);
        QList<LocalStore::JournalEntry> journal;
        if (reopened)
            journal = again.journal(1000).value();
        again.close();
        unmount(dir);
        QVERIFY2(reopened, qPrintable(reopened.error()));
        QCOMPARE(journal.size(), count); // none lost, none twice
        for (int i = 0; i < count; ++i)
            QCOMPARE(journal[i].summary, QStringLiteral("entry %1").arg(i));
    }

    void writesLeaveTheCallersThreadAndKeepTheirOrder()
    {
        // Ids are known at once and grow; an outcome set right after its entry lands on it; a second process's view
        // of the file (a reopen) has both, in order.
        const QString path = m_dir.filePath(QStringLiteral("order.sqlite"));
        qint64 first = 0;
        qint64 outbox = 0;
        {
            LocalStore store;
            QVERIFY(store.open(path));
            first = store.appendJournal(entry(QStringLiteral("first"))).value();
            const qint64 second = store.appendJournal(entry(QStringLiteral("second"))).value();
            QVERIFY(second > first);
            QVERIFY(store.setJournalOutcome(first, QStringLiteral("succeeded")));
            LocalStore::OutboxEntry e;
            e.key = QStringLiteral("k1");
            e.payload = "{}";
            e.state = QStringLiteral("queued");
            e.kind = QStringLiteral("create");
            outbox = store.appendOutbox(e).value();
            QVERIFY(store.hasUnwrittenOutbox(outbox) || store.unwrittenCount() == 0);
            e.id = outbox;
            e.state = QStringLiteral("sending");
            e.attempts = 1;
            QVERIFY(store.updateOutbox(e));
            // The outcome is served from memory before it is on disk.
            QCOMPARE(store.journal(2)->front().outcome, QStringLiteral("succeeded"));
            std::optional<Status> written;
            store.whenWritten(this, [&](const Status &s) { written = s; });
            QTRY_VERIFY(written.has_value());
            QVERIFY2(*written, qPrintable(written->error()));
            QCOMPARE(store.unwrittenCount(), 0);
            QVERIFY(!store.hasUnwrittenOutbox(outbox));
            // The lease and the file's outbox, read on the store's thread after the writes.
            std::optional<LocalStore::OutboxClaim> claim;
            QObject context;
            store.claimOutbox(
                QStringLiteral("me"), 60000, {}, &context, [&](const LocalStore::OutboxClaim &c) { claim = c; });
            QTRY_VERIFY(claim.has_value());
            QVERIFY2(claim->error.isEmpty(), qPrintable(claim->error));
            QCOMPARE(claim->holder, QStringLiteral("me"));
            QCOMPARE(claim->entries.size(), 1);
            QCOMPARE(claim->entries.front().state, QStringLiteral("sending"));
        }
        LocalStore again;
        QVERIFY(again.open(path));
        const auto journal = again.journal();
        QCOMPARE(journal->size(), 2);
        QCOMPARE(journal->front().id, first);
        QCOMPARE(journal->front().outcome, QStringLiteral("succeeded"));
        QCOMPARE(journal->back().summary, QStringLiteral("second"));
        QCOMPARE(again.outbox()->front().id, outbox);
        QCOMPARE(again.outbox()->front().attempts, 1);
    }

private:
    QTemporaryDir m_dir;
};

QTEST_GUILESS_MAIN(TestLocalStore)
#include "tst_localstore.moc"
