#pragma once

#include "result.h"

#include <QList>
#include <QObject>
#include <QString>

#include <functional>

namespace fleet {

// The console's memory on disk: one SQLite file (Qt SQL's driver, WAL journal) in the user's data folder, shared by
// the local audit log of actions (the journal) and the status-update outbox. Versioned: each schema change is
// a migration, run in a transaction when an older file is opened. It never loses what it already holds: a file it
// cannot read (corrupt, or written by a newer console) is left as it is and refused with a message that says what to
// do; a write that fails (read-only folder, full disk) is rolled back and reported, and the rows before it stay.
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

    static constexpr int kSchemaVersion = 3;

    explicit LocalStore(QObject *parent = nullptr);
    ~LocalStore() override;

    // $FLEET_CONSOLE_DATA/fleet-console.sqlite if that is set, else in QStandardPaths::AppDataLocation.
    static QString defaultPath();

    Status open(const QString &path);
    void close();
    bool isOpen() const { return !m_connection.isEmpty(); }
    QString path() const { return m_path; }
    int schemaVersion() const; // of the open file
    QString lastError() const { return m_lastError; }

    Result<qint64> appendJournal(const JournalEntry &entry);
    Status setJournalOutcome(qint64 id, const QString &outcome);
    Result<QList<JournalEntry>> journal(int newestCount = 1000) const; // oldest first

    Result<qint64> appendOutbox(const OutboxEntry &entry);
    Status updateOutbox(const OutboxEntry &entry); // state, attempts, last error, result, payload
    // Every entry not yet delivered or failed, and the `newestCount` newest of the others, oldest first.
    Result<QList<OutboxEntry>> outbox(int newestCount = 200) const;
    // The console and fleetctl share the file; one process at a time delivers. Takes (or extends) the lease for
    // `owner` when it is free, expired or already `owner`'s; returns who holds it now.
    // `isDeadProcess` says whether the holder named by a lease is known to be gone (it is then taken over at once).
    Result<QString> claimOutbox(
        const QString &owner, qint64 forMs, const std::function<bool(const QString &owner)> &isDeadProcess = {});
    void releaseOutbox(const QString &owner);

Q_SIGNALS:
    void journalAppended(const fleet::LocalStore::JournalEntry &entry);
    void writeFailed(const QString &message); // for a banner: the store could not keep something

private:
    Status migrate();
    Status fail(const QString &message);
    QString describeSqlError(const QString &doing, const QString &sqlError) const;

    QString m_path;
    QString m_connection; // Qt SQL connection name; empty when closed
    QString m_lastError;
};

} // namespace fleet

Q_DECLARE_METATYPE(fleet::LocalStore::JournalEntry)
Q_DECLARE_METATYPE(fleet::LocalStore::OutboxEntry)
