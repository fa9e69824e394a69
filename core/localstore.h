#pragma once

#include "result.h"

#include <QList>
#include <QObject>
#include <QString>

namespace fleet {

// The console's memory on disk: one SQLite file (Qt SQL's driver, WAL journal) in the user's data folder, shared by
// the local audit log of actions (the journal) and, later, the status-update outbox. Versioned: each schema change is
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

    static constexpr int kSchemaVersion = 2;

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
