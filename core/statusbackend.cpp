#include "statusbackend.h"

namespace fleet {

StatusBackend *StatusBackend::forConfig(const StatusPageConfig &config, QObject *parent, QString *problem)
{
    const QString why = config.problem();
    if (problem)
        *problem = why;
    return why.isEmpty() ? new StatuspageBackend(config, parent) : nullptr;
}

StatuspageBackend::StatuspageBackend(const StatusPageConfig &config, QObject *parent)
    : StatusBackend(parent)
    , m_config(config)
    , m_client(new StatuspageClient(config, this))
{
}

QString StatuspageBackend::where() const
{
    return tr("%1, page %2")
        .arg(m_config.baseUrl.toDisplayString(QUrl::RemovePath | QUrl::RemoveUserInfo), m_config.pageId);
}

void StatuspageBackend::components(QObject *context, Callback<QList<status::Component>> done)
{
    m_client->components(context, std::move(done));
}

void StatuspageBackend::unresolved(QObject *context, Callback<QList<status::Incident>> done)
{
    m_client->unresolved(context, std::move(done));
}

void StatuspageBackend::incidents(
    const QString &search, int limit, QObject *context, Callback<QList<status::Incident>> done)
{
    m_client->incidents(search, limit, context, std::move(done));
}

void StatuspageBackend::incident(const QString &id, QObject *context, Callback<status::Incident> done)
{
    m_client->incident(id, context, std::move(done));
}

void StatuspageBackend::create(const status::IncidentChange &change, QObject *context, Callback<status::Incident> done)
{
    m_client->create(change, context, std::move(done));
}

void StatuspageBackend::update(
    const QString &incidentId, const status::IncidentChange &change, QObject *context, Callback<status::Incident> done)
{
    m_client->update(incidentId, change, context, std::move(done));
}

void StatuspageBackend::findCreated(
    const status::IncidentChange &change, qint64 sentAtMs, QObject *context, Callback<status::Incident> done)
{
    m_client->findCreated(change, sentAtMs, context, std::move(done));
}

bool StatuspageBackend::carries(
    const status::Incident &incident, const status::IncidentChange &change, qint64 sentAtMs) const
{
    return statuspage::carries(incident, change, sentAtMs);
}

void StatuspageBackend::putPostmortem(
    const QString &incidentId, const QString &draft, QObject *context, Callback<status::Postmortem> done)
{
    m_client->putPostmortem(incidentId, draft, context, std::move(done));
}

void StatuspageBackend::publishPostmortem(
    const QString &incidentId, bool notifySubscribers, QObject *context, Callback<status::Postmortem> done)
{
    m_client->publishPostmortem(incidentId, notifySubscribers, context, std::move(done));
}

} // namespace fleet
