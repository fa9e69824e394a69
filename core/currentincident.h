#pragma once

#include "statusbackend.h"

#include <QObject>
#include <QPointer>
#include <QTimer>

#include <optional>

namespace fleet {

class FleetSession;

// The incident the public status page shows now, for views that only watch (the war-room display): the newest
// unresolved incident on the session's status page, read every minute and at once after this console delivered a
// status update, while at least one view watches (addWatcher): a console nobody shows it in costs the page nothing.
// Reads only; a page that cannot be read keeps the last answer and says why. Without a configured page there is no
// current incident ("no incident"). Qt Core.
class CurrentIncident : public QObject
{
    Q_OBJECT

public:
    explicit CurrentIncident(FleetSession *session);

    // The newest unresolved incident, if the page has one.
    const std::optional<status::Incident> &incident() const { return m_incident; }
    // When the newest public update of it was posted (ms since the epoch, UTC); 0 without one.
    qint64 lastPublicUpdateMs() const;
    bool isConfigured() const { return m_backend != nullptr; }
    QString error() const { return m_error; } // why the last read failed; empty after a good one
    qint64 readAtMs() const { return m_readAtMs; } // wall clock of the last good read; 0 before one

    // Reading starts with the first watcher and stops when the last one is destroyed.
    void addWatcher(QObject *watcher);
    bool isWatched() const { return m_watchers > 0; }
    void setPollIntervalMs(int ms) { m_poll.setInterval(ms); }
    void refresh(); // reads the page now (a read already under way is not doubled)

Q_SIGNALS:
    void changed();

private:
    void reconfigure();

    FleetSession *m_session;
    QPointer<StatusBackend> m_backend; // the session's
    std::optional<status::Incident> m_incident;
    QString m_error;
    qint64 m_readAtMs = 0;
    QTimer m_poll;
    bool m_reading = false;
    int m_watchers = 0;
};

} // namespace fleet
