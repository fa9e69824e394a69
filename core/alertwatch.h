#pragma once

#include "alertmanager.h"

#include <QObject>
#include <QTimer>

namespace fleet {

// The fleet's Alertmanager, polled (issue #23): the alerts as of the last successful poll, per region (the
// `region` label), and how old that is. After three polls in a row that failed the alerts are stale and say so:
// a view never shows an Alertmanager that stopped answering as "no alerts". Qt Core; the session owns it when the
// console was given --alertmanager.
class AlertWatch : public QObject
{
    Q_OBJECT

public:
    static constexpr int kStaleAfterMissedPolls = 3;

    AlertWatch(const AlertmanagerConfig &config, int intervalSeconds, QObject *parent = nullptr);

    void pollNow();
    QList<AmAlert> alerts() const { return m_alerts; }
    QList<AmAlert> alertsFor(const QString &region) const;
    qint64 lastSuccessMs() const { return m_lastSuccessMs; } // 0: never
    int missedPolls() const { return m_missed; }
    bool isStale() const { return m_missed >= kStaleAfterMissedPolls; }
    QString lastError() const { return m_lastError; }
    int intervalSeconds() const { return m_intervalSeconds; }

    // "FleetRegionPacketLoss firing since 04:31 UTC · FleetRegionTimeouts silenced": the region's alerts in words,
    // firing first; empty when there are none.
    static QString summary(const QList<AmAlert> &alerts);
    // The same, short enough for a tile: "1 firing: FleetRegionPacketLoss · 1 silenced".
    static QString brief(const QList<AmAlert> &alerts);
    // "Alertmanager polled 4 s ago", or why the alerts are old ("Alertmanager: 3 polls missed (why); alerts as of
    // 04:31:02 UTC").
    QString statusText(qint64 nowMs) const;

Q_SIGNALS:
    void changed();

private:
    AlertmanagerClient *m_client;
    int m_intervalSeconds;
    QTimer m_timer;
    bool m_polling = false;
    QList<AmAlert> m_alerts;
    qint64 m_lastSuccessMs = 0;
    int m_missed = 0;
    QString m_lastError;
};

} // namespace fleet
