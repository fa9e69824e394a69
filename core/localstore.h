#pragma once

#include "result.h"

#include <QHash>
#include <QList>
#include <QObject>
#include <QString>

#include <functional>

class QSqlDatabase;
class QThread;

namespace fleet {

// The console's memory on disk: one SQLite file (Qt SQL's driver, WAL journal) in the user's data folder, shared by
// the local audit log of actions (the journal) and the status-update outbox. Versioned: each schema change is
// a migration, run in a transaction when an older file is opened. It never loses what it already holds: a file it
// cannot read (corrupt, or written by a newer console) is left as it is and refused with a message that says what to
// do; a write that fails (read-only folder, full disk) is rolled back and reported, and the rows before it stay.
//
// The caller's thread never waits on the disk after open(): every statement runs on the store's own writer thread
// (one SQLite connection, jobs in the order they were asked, like qBittorrent's resume-data worker). A write is kept
// in memory at once (the journal's newest rows are served from there) and on disk a moment later; whenWritten()
// says when everything asked before it is on disk, which is what a caller waits for before it acts on the write
// (an action is sent, an update leaves for the page, only once its record is stored). A write the disk refuses
// (full, read-only, busy) is kept in order and tried again every few seconds; writeFailed says so, in words.
// Ids are assigned here, not by SQLite: milliseconds since the epoch x 1000 + the process id mod 1000, so they are
// known at once, grow with time across the processes sharing the file (the console and fleetctl) and do not collide.
class LocalStore : public QObject
{
    Q_OBJECT

public:
    // One attempt of anything this console did or tried: "provision 4 aarch64 in eu-west, reason ..., by ana".
    struct JournalEntry
    {
        qint64 id = 0; // assigned by append
        qint64 atMs = 0; // UTC, ms since the epoch
        QString kind; // "provision", "drain_region", "status_update", "connect", ...
        QString actor;
        QString target; // region, worker or incident
        QString summary; // one line in words
        QByteArray payload; // the structured value (JSON) of the attempt
        QString outcome; // "pending", "succeeded", "failed: <why>", ...
    };

    // One write for the status page, kept until the page has it: created, then "queued" -> "sending" ->
    // "delivered" (or "failed" with the page's reason; or back to "queued" while it is unreachable).
    struct OutboxEntry
    {
        qint64 id = 0; // assigned by appendOutbox; the delivery order
        qint64 createdMs = 0;
        QString key; // the write's own key (the update key in the incident's metadata)
        QByteArray payload; // the write, as JSON
        QString state;
        int attempts = 0;
        QString lastError; // why it is still queued, or why it failed
        QString result; // the incident id the page answered with
        QString kind; // "create", "update", "postmortem", "publish"
        QString summary; // one line for a person
    };

    // What claimOutbox found: who delivers now, and the outbox as the file holds it (every process's entries).
    struct OutboxClaim
    {
        QString holder; // empty when error is set or nothing is pending
        QList<OutboxEntry> entries;
        QString error;
    };

    static constexpr int kSchemaVersion = 4;
    static constexpr int kJournalInMemory = 1000; // the newest journal rows served from memory

    explicit LocalStore(QObject *parent = nullptr);
    ~LocalStore() override; // waits for every queued write

    // $FLEET_CONSOLE_DATA/fleet-console.sqlite if that is set, else in QStandardPaths::AppDataLocation.
    static QString defaultPath();

    // Waits for the disk (start-up): opens, checks and migrates the file, reads the journal's newest rows.
    Status open(const QString &path);
    void close(); // waits for every queued write (tried once more if the disk refused it)
    bool isOpen() const { return m_open; }
    QString path() const { return m_path; }
    int schemaVersion() const { return m_open ? m_schemaVersion : 0; } // of the open file
    QString lastError() const { return m_lastError; }

    // Kept in memory and queued for the disk at once; the id is final.
    Result<qint64> appendJournal(const JournalEntry &entry);
    Status setJournalOutcome(qint64 id, const QString &outcome);
    Result<QList<JournalEntry>> journal(int newestCount = kJournalInMemory) const; // oldest first, from memory

    Result<qint64> appendOutbox(const OutboxEntry &entry);
    Status updateOutbox(const OutboxEntry &entry); // state, attempts, last error, result, payload
    // Every entry not yet delivered or failed, and the `newestCount` newest of the others, oldest first. Waits for
    // the disk: for start-up and fleetctl, not for a GUI thread that is running.
    Result<QList<OutboxEntry>> outbox(int newestCount = 200) const;
    // The console and fleetctl share the file; one process at a time delivers. On the writer thread, after every
    // write asked before it: reads the outbox and, when something in it is still to be delivered, takes (or extends)
    // the lease for `owner` when it is free, expired or already `owner`'s; `done` gets the entries and who holds the
    // lease now (empty when nothing is pending), on `context`'s thread, which must be the store's. `isDeadProcess`
    // (called on the writer thread) says whether the holder named by a lease is known to be gone (it is then taken over
    // at once).
    void claimOutbox(const QString &owner, qint64 forMs, std::function<bool(const QString &owner)> isDeadProcess,
        QObject *context, std::function<void(OutboxClaim)> done);
    void releaseOutbox(const QString &owner); // queued

    // `done` on `context`'s thread once every write asked before this call is on disk; a failure says which write the
    // disk still refuses (it stays queued and is tried again).
    void whenWritten(QObject *context, std::function<void(Status)> done);
    // Writes of this outbox entry asked but not yet on disk (a read of the file does not know them yet).
    bool hasUnwrittenOutbox(qint64 id) const { return m_unwrittenOutbox.value(id) > 0; }
    int unwrittenCount() const { return m_unwritten; }

    // For the store's other tables (the incident record, core/incidentrecorder.cpp): `run` on the writer thread in
    // order with every other write, kept and tried again like them when the disk refuses it; it returns the SQL error
    // (empty once it is on disk). `what` says what it is in an error ("record 60 s of eu-central's health").
    void queueWrite(const QString &what, std::function<QString(QSqlDatabase &)> run);
    // `read` on the writer thread after every write asked before it; the function it returns runs on `context`'s
    // thread (not at all once `context` is gone), which must be the store's.
    void queueRead(QObject *context, std::function<std::function<void()>(QSqlDatabase &)> read);
    // Waits for the disk: `read` on the writer thread, after every write asked before it. For fleetctl and start-up.
    Status readNow(const std::function<void(QSqlDatabase &)> &read) const;
    bool isFailing() const { return m_failing; } // a write the disk refused is waiting for another try

Q_SIGNALS:
    void journalAppended(const fleet::LocalStore::JournalEntry &entry);
    void writeFailed(const QString &message); // for a banner: the store could not keep something (yet)
    void writesCaughtUp(); // every write is on disk again after writeFailed

private:
    struct Worker;
    struct Write;

    qint64 nextId();
    void post(Write write);
    // From the writer thread, about the file opened as `generation` (a report about a file closed since is dropped):
    void written(int generation, qint64 outboxId, const QString &error); // on disk, or refused for good (error)
    void refused(int generation, const QString &message); // a write the disk refused is kept for another try
    void caughtUp(int generation);
    Status notOpen() const;

    Worker *m_worker = nullptr; // lives on m_thread
    QThread *m_thread = nullptr;
    bool m_open = false;
    QString m_path;
    QString m_lastError;
    int m_schemaVersion = 0;
    int m_generation = 0; // which open() the writer thread's reports are about
    qint64 m_lastId = 0;
    QList<JournalEntry> m_journal; // the newest kJournalInMemory, oldest first
    QHash<qint64, int> m_unwrittenOutbox;
    int m_unwritten = 0;
    bool m_failing = false;
};

} // namespace fleet

Q_DECLARE_METATYPE(fleet::LocalStore::JournalEntry)
Q_DECLARE_METATYPE(fleet::LocalStore::OutboxEntry)
