#include "currentincident.h"

#include "fleetsession.h"
#include "statusoutbox.h"

#include <QDateTime>

#include <algorithm>

namespace fleet {

CurrentIncident::CurrentIncident(FleetSession *session)
    : QObject(session)
    , m_session(session)
{
    m_poll.setInterval(60000); // the page's own rate limit is a write a second; a read a minute is nothing to it
    connect(&m_poll, &QTimer::timeout, this, &CurrentIncident::refresh);
    connect(session, &FleetSession::statusPageChanged, this, &CurrentIncident::reconfigure);
    // This console's own updates show at once, not a minute later. The outbox is new when the store (re)opens.
    auto watchOutbox = [this] {
        if (StatusOutbox *outbox = m_session->statusOutbox())
            connect(outbox, &StatusOutbox::delivered, this, &CurrentIncident::refresh, Qt::UniqueConnection);
    };
    connect(session, &FleetSession::localStoreChanged, this, watchOutbox);
    watchOutbox();
    reconfigure();
}

void CurrentIncident::reconfigure()
{
    m_reading = false;
    m_incident.reset();
    m_error.clear();
    m_readAtMs = 0;
    m_backend = m_session->statusBackend();
    if (!m_backend) {
        m_poll.stop();
        Q_EMIT changed();
        return;
    }
    if (m_watchers > 0) {
        m_poll.start();
        refresh();
    }
    Q_EMIT changed();
}

void CurrentIncident::addWatcher(QObject *watcher)
{
    ++m_watchers;
    connect(watcher, &QObject::destroyed, this, [this] {
        if (--m_watchers == 0)
            m_poll.stop();
    });
    if (m_watchers == 1 && m_backend) {
        m_poll.start();
        refresh();
    }
}

void CurrentIncident::refresh()
{
    if (!m_backend || m_reading || m_watchers == 0)
        return;
    m_reading = true;
    QPointer<StatusBackend> asked = m_backend;
    m_backend->unresolved(this, [this, asked](ApiResult<QList<status::Incident>> result) {
        if (asked != m_backend)
            return; // the page changed meanwhile: this answer is about another page
        m_reading = false;
        if (!result) {
            m_error = result.error().message;
            Q_EMIT changed();
            return;
        }
        m_error.clear();
        m_readAtMs = QDateTime::currentMSecsSinceEpoch();
        const QList<status::Incident> &list = result.value();
        const auto newest = std::max_element(list.begin(), list.end(),
            [](const status::Incident &a, const status::Incident &b) { return a.createdAt < b.createdAt; });
        if (newest == list.end())
            m_incident.reset();
        else
            m_incident = *newest;
        Q_EMIT changed();
    });
}

qint64 CurrentIncident::lastPublicUpdateMs() const
{
    if (!m_incident)
        return 0;
    qint64 newest = 0;
    for (const status::IncidentUpdate &u : m_incident->updates)
        newest = std::max(newest, u.displayAt > 0 ? u.displayAt : u.createdAt);
    return newest;
}

} // namespace fleet
