#pragma once

#include "actioncontroller.h"
#include "healthmonitor.h"

#include <QDBusConnection>
#include <QHash>
#include <QObject>
#include <QPointer>
#include <QTimer>

class QSettings;

namespace fleet {

class FleetSession;

// Desktop notifications through the freedesktop notification service (org.freedesktop.Notifications on the session
// bus): a region that becomes degraded or down, a region that recovers, and an action of this console that finished
// or failed. One notification per verdict change (the session's HealthMonitor already holds back flapping samples),
// and at most one per region a minute: changes inside that minute are folded into one that says where the region
// ended up, replacing the region's earlier notification rather than stacking beside it. Clicking one opens the
// console at that region. Each kind can be turned off (kept in the settings). Server text is escaped when the
// notification server reads markup. Calls are asynchronous: a missing or hung service never blocks the window.
class DesktopNotifier : public QObject
{
    Q_OBJECT

public:
    enum class Kind { RegionTrouble, RegionRecovered, Operations };

    DesktopNotifier(FleetSession *session, QSettings *settings, QObject *parent = nullptr);

    // The bus to use: the desktop's session bus unless a test gives a private one.
    void setBus(const QDBusConnection &bus);
    bool isAvailable() const; // a session bus is there (whether a notification service answers shows per call)
    QString lastError() const { return m_lastError; }

    // Each kind is on or off per connection profile (the session's), kept in the settings as ProfileSettings keeps
    // it: Settings and the View menu change the same value.
    bool isEnabled(Kind kind) const;
    void setEnabled(Kind kind, bool enabled);
    static QString settingsKey(Kind kind, const QString &profile); // "profiles/<profile>/settings/notify_trouble", ...

    void setActive(bool active) { m_active = active; } // inactive: sends nothing
    bool isActive() const { return m_active; }
    void setMinIntervalMs(int ms) { m_minIntervalMs = ms; }
    int sentCount() const { return m_sent; }

Q_SIGNALS:
    void regionActivated(const QString &region); // a region's notification was clicked
    void consoleActivated(); // another notification was clicked
    void notified(const QString &summary, const QString &body); // handed to the notification service

private Q_SLOTS:
    void onActionInvoked(uint id, const QString &actionKey);
    void onClosed(uint id, uint reason);

private:
    struct RegionSlot
    {
        qint64 lastSentMs = 0;
        uint notificationId = 0;
        Verdict lastNotified = Verdict::NoData;
        bool hasPending = false;
        VerdictChange pending;
        int folded = 0; // changes inside the current minute
        QTimer *timer = nullptr;
    };
    void onVerdict(const VerdictChange &change);
    void onFinished(const ActionController::Tracked &tracked);
    void sendRegion(RegionSlot &slot, const VerdictChange &change, int folded);
    void notify(
        const QString &summary, const QString &body, int urgency, uint replaces, std::function<void(uint)> gotId);
    QString text(const QString &s) const; // escaped when the server reads markup

    QPointer<FleetSession> m_session;
    QSettings *m_settings;
    QDBusConnection m_bus;
    QHash<QString, RegionSlot> m_regions;
    QHash<uint, QString> m_clickTargets; // notification id -> region ("" for the console); bounded
    QString m_lastError;
    int m_minIntervalMs = 60000;
    int m_sent = 0;
    bool m_active = true;
    bool m_markup = true; // until the server says otherwise, escape
};

} // namespace fleet
