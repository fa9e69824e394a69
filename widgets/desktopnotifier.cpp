#include "desktopnotifier.h"

#include "connectionprofiles.h"
#include "profilesettings.h"

#include "fleetsession.h"

#include <QCoreApplication>
#include <QDBusMessage>
#include <QDBusPendingCallWatcher>
#include <QDBusPendingReply>
#include <QDateTime>
#include <QSettings>

namespace fleet {

namespace {

QString notificationsService()
{
    return QStringLiteral("org.freedesktop.Notifications");
}

QString notificationsPath()
{
    return QStringLiteral("/org/freedesktop/Notifications");
}

} // namespace

DesktopNotifier::DesktopNotifier(FleetSession *session, QSettings *settings, QObject *parent)
    : QObject(parent)
    , m_session(session)
    , m_settings(settings)
    , m_bus(QDBusConnection::sessionBus())
{
    connect(session->healthMonitor(), &HealthMonitor::verdictChanged, this, &DesktopNotifier::onVerdict);
    connect(session->actions(), &ActionController::finished, this, &DesktopNotifier::onFinished);
    setBus(m_bus);
}

void DesktopNotifier::setBus(const QDBusConnection &bus)
{
    m_bus.disconnect(notificationsService(), notificationsPath(), notificationsService(),
        QStringLiteral("ActionInvoked"), this, SLOT(onActionInvoked(uint, QString)));
    m_bus.disconnect(notificationsService(), notificationsPath(), notificationsService(),
        QStringLiteral("NotificationClosed"), this, SLOT(onClosed(uint, uint)));
    m_bus = bus;
    if (!m_bus.isConnected()) {
        m_lastError = tr("no desktop session bus: notifications are off");
        return;
    }
    m_bus.connect(notificationsService(), notificationsPath(), notificationsService(), QStringLiteral("ActionInvoked"),
        this, SLOT(onActionInvoked(uint, QString)));
    m_bus.connect(notificationsService(), notificationsPath(), notificationsService(),
        QStringLiteral("NotificationClosed"), this, SLOT(onClosed(uint, uint)));
    // Does the server read markup in the body? Then the server's strings are escaped (a worker named "<b>x</b>" is
    // shown as typed); otherwise they go as they are.
    auto *watcher = new QDBusPendingCallWatcher(
        m_bus.asyncCall(QDBusMessage::createMethodCall(
            notificationsService(), notificationsPath(), notificationsService(), QStringLiteral("GetCapabilities"))),
        this);
    connect(watcher, &QDBusPendingCallWatcher::finished, this, [this](QDBusPendingCallWatcher *w) {
        w->deleteLater();
        const QDBusPendingReply<QStringList> reply = *w;
        if (reply.isValid())
            m_markup = reply.value().contains(QStringLiteral("body-markup"));
    });
}

bool DesktopNotifier::isAvailable() const
{
    return m_bus.isConnected();
}

QString DesktopNotifier::settingsKey(Kind kind, const QString &profile)
{
    // The keys ProfileSettings keeps for the profile: Settings and the View menu show the same choice.
    const QString group = ProfileStore::group(profile) + QStringLiteral("/settings/");
    switch (kind) {
    case Kind::RegionTrouble:
        return group + QStringLiteral("notify_trouble");
    case Kind::RegionRecovered:
        return group + QStringLiteral("notify_recovered");
    case Kind::Operations:
        break;
    }
    return group + QStringLiteral("notify_operations");
}

bool DesktopNotifier::isEnabled(Kind kind) const
{
    if (!m_settings || !m_session)
        return true;
    // As Settings shows it: the profile's choice, or the one made before choices were per profile.
    const ProfileSettings s = ProfileSettings::load(m_settings, m_session->profile().name);
    switch (kind) {
    case Kind::RegionTrouble:
        return s.notifyTrouble;
    case Kind::RegionRecovered:
        return s.notifyRecovered;
    case Kind::Operations:
        break;
    }
    return s.notifyOperations;
}

void DesktopNotifier::setEnabled(Kind kind, bool enabled)
{
    if (m_settings && m_session)
        m_settings->setValue(settingsKey(kind, m_session->profile().name), enabled);
}

QString DesktopNotifier::text(const QString &s) const
{
    return m_markup ? s.toHtmlEscaped() : s;
}

void DesktopNotifier::onVerdict(const VerdictChange &change)
{
    const bool trouble = change.to == Verdict::Degraded || change.to == Verdict::Down;
    const bool recovered
        = change.to == Verdict::Healthy && (change.from == Verdict::Degraded || change.from == Verdict::Down);
    if (!trouble && !recovered)
        return; // no data, or healthy after no data: nothing a person has to know
    RegionSlot &slot = m_regions[change.region];
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    if (!slot.hasPending && (slot.lastSentMs == 0 || now - slot.lastSentMs >= m_minIntervalMs)) {
        if (isEnabled(trouble ? Kind::RegionTrouble : Kind::RegionRecovered))
            sendRegion(slot, change, 0);
        return;
    }
    // Inside the region's minute: keep the newest change and say it once the minute is over.
    slot.pending = change;
    slot.hasPending = true;
    ++slot.folded;
    if (!slot.timer) {
        slot.timer = new QTimer(this);
        slot.timer->setSingleShot(true);
        const QString region = change.region;
        connect(slot.timer, &QTimer::timeout, this, [this, region] {
            RegionSlot &s = m_regions[region];
            if (!s.hasPending)
                return;
            s.hasPending = false;
            const VerdictChange last = s.pending;
            const int folded = s.folded;
            s.folded = 0;
            if (last.to == s.lastNotified)
                return; // it flapped and came back to what the room was last told
            const bool bad = last.to == Verdict::Degraded || last.to == Verdict::Down;
            if (isEnabled(bad ? Kind::RegionTrouble : Kind::RegionRecovered))
                sendRegion(s, last, folded);
        });
    }
    if (!slot.timer->isActive())
        slot.timer->start(int(std::max<qint64>(0, slot.lastSentMs + m_minIntervalMs - now)));
}

void DesktopNotifier::sendRegion(RegionSlot &slot, const VerdictChange &change, int folded)
{
    slot.lastSentMs = QDateTime::currentMSecsSinceEpoch();
    slot.lastNotified = change.to;
    const QString name = change.regionName.isEmpty() ? change.region : change.regionName;
    QString summary;
    switch (change.to) {
    case Verdict::Down:
        summary = tr("%1 is down").arg(name);
        break;
    case Verdict::Degraded:
        summary = tr("%1 is degraded").arg(name);
        break;
    default:
        summary = tr("%1 recovered").arg(name);
        break;
    }
    QString body = change.text();
    if (folded > 1)
        body += tr(" (its verdict changed %1 times in the last minute)").arg(folded);
    const int urgency = change.to == Verdict::Down ? 2 : change.to == Verdict::Degraded ? 1 : 0;
    const QString region = change.region;
    // Replaces the region's previous notification: the latest word on a region, not a stack of them.
    notify(summary, body, urgency, slot.notificationId, [this, region](uint id) {
        m_regions[region].notificationId = id;
        m_clickTargets.insert(id, region);
    });
}

void DesktopNotifier::onFinished(const ActionController::Tracked &tracked)
{
    if (!isEnabled(Kind::Operations))
        return;
    const bool done = tracked.phase == ActionController::Phase::Done;
    const QString summary
        = done ? tr("Done: %1").arg(tracked.action.describe()) : tr("Not done: %1").arg(tracked.action.describe());
    const QString region = tracked.action.region();
    notify(summary, tracked.message, done ? 0 : 2, 0, [this, region](uint id) { m_clickTargets.insert(id, region); });
}

void DesktopNotifier::notify(
    const QString &summary, const QString &body, int urgency, uint replaces, std::function<void(uint)> gotId)
{
    if (!m_bus.isConnected() || !m_active)
        return;
    QDBusMessage call = QDBusMessage::createMethodCall(
        notificationsService(), notificationsPath(), notificationsService(), QStringLiteral("Notify"));
    QVariantMap hints;
    hints.insert(QStringLiteral("urgency"), QVariant::fromValue(uchar(urgency)));
    hints.insert(QStringLiteral("desktop-entry"), QStringLiteral("fleet-console"));
    hints.insert(QStringLiteral("category"), QStringLiteral("network"));
    // The summary is plain text by the specification; the body may be read as markup.
    call << QStringLiteral("Fleet Console") << replaces << QStringLiteral("network-server") << summary << text(body)
         << QStringList { QStringLiteral("default"), tr("Open in Fleet Console") } << hints << int(-1);
    ++m_sent;
    Q_EMIT notified(summary, body);
    auto *watcher = new QDBusPendingCallWatcher(m_bus.asyncCall(call, 10000), this);
    connect(watcher, &QDBusPendingCallWatcher::finished, this, [this, gotId](QDBusPendingCallWatcher *w) {
        w->deleteLater();
        const QDBusPendingReply<uint> reply = *w;
        if (reply.isError()) {
            m_lastError = tr("the desktop's notification service did not answer: %1").arg(reply.error().message());
            return;
        }
        m_lastError.clear();
        if (m_clickTargets.size() > 200)
            m_clickTargets.clear(); // old ones can no longer be clicked anyway
        gotId(reply.value());
    });
}

void DesktopNotifier::onActionInvoked(uint id, const QString &actionKey)
{
    Q_UNUSED(actionKey); // "default" (the body clicked) or our one button: both open the console
    const auto it = m_clickTargets.constFind(id);
    if (it == m_clickTargets.constEnd())
        return; // another application's notification
    if (it.value().isEmpty())
        Q_EMIT consoleActivated();
    else
        Q_EMIT regionActivated(it.value());
}

void DesktopNotifier::onClosed(uint id, uint reason)
{
    Q_UNUSED(reason);
    m_clickTargets.remove(id);
    for (RegionSlot &slot : m_regions) {
        if (slot.notificationId == id)
            slot.notificationId = 0; // gone from the screen: the next one is new, not a replacement
    }
}

} // namespace fleet
