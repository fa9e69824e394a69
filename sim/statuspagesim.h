#pragma once

#include <QByteArray>
#include <QElapsedTimer>
#include <QHash>
#include <QJsonArray>
#include <QJsonObject>
#include <QString>
#include <QStringList>
#include <QUrlQuery>

#include <functional>
#include <optional>
#include <utility>
#include <vector>

namespace fleet::sim {

// A Statuspage-compatible subset (Atlassian Statuspage REST API v1, shared/specs/statuspage-openapi.yaml) that
// fleet-sim serves under /statuspage/v1, so the console's status updates run end to end without the internet:
// components (paged), incidents (list, unresolved, get, create, update by PATCH or PUT), postmortems (draft and
// publish). Same paths, bodies, status codes and error shapes ({"message": ...}, {"error": ...} with a string or a
// list), the API key as "Authorization: OAuth <key>", and the rate limit (about one request a second per key;
// beyond it 420 with Retry-After). publicPage() renders what a reader of the public status page sees.
class StatusPageSim
{
public:
    struct Options
    {
        QString pageId = QStringLiteral("fleetdemo");
        QString pageName = QStringLiteral("Fleet Builders");
        QString apiKey = QStringLiteral("demo-statuspage-key");
        QStringList components; // names, in page order
        double requestsPerSecond = 1.0; // the bucket refills at this rate
        int burst = 3; // and holds this many requests
    };
    struct Reply
    {
        int status = 200;
        QByteArray contentType = QByteArrayLiteral("application/json");
        QByteArray body;
        std::vector<std::pair<QByteArray, QByteArray>> headers;
    };

    // `nowMs` is the simulated clock (incident times follow the fleet's time).
    StatusPageSim(Options options, std::function<qint64()> nowMs);

    // A request below /statuspage/v1: `segments` after that prefix ("pages", "<id>", "incidents", ...).
    Reply handle(const QByteArray &method, const QStringList &segments, const QUrlQuery &query,
        const QByteArray &authorization, const QByteArray &body);
    // The public page at /status, HTML; every text from the API escaped.
    QByteArray publicPage() const;

    const Options &options() const { return m_options; }
    int incidentCount() const { return int(m_incidents.size()); }
    int writes() const { return m_writes; } // accepted creates and updates, for tests
    int rateLimited() const { return m_rateLimited; }

private:
    struct Component
    {
        QString id;
        QString name;
        QString status = QStringLiteral("operational");
        int position = 0;
        qint64 createdMs = 0;
        qint64 updatedMs = 0;
    };
    struct Update
    {
        QString id;
        QString status;
        QString body;
        qint64 atMs = 0;
        bool deliverNotifications = true;
        QJsonArray affected; // {code, name, old_status, new_status}
    };
    struct Incident
    {
        QString id;
        QString name;
        QString status;
        QString impact = QStringLiteral("none");
        QString impactOverride;
        qint64 createdMs = 0;
        qint64 updatedMs = 0;
        qint64 monitoringMs = 0;
        qint64 resolvedMs = 0;
        QJsonObject metadata;
        QStringList componentIds;
        std::vector<Update> updates; // oldest first here; newest first on the wire
        QString postmortemDraft;
        QString postmortemBody;
        qint64 postmortemDraftMs = 0;
        qint64 postmortemPublishedMs = 0;
    };

    Reply components(const QUrlQuery &query) const;
    Reply incidents(const QUrlQuery &query, bool unresolvedOnly) const;
    Reply createIncident(const QJsonObject &in);
    Reply updateIncident(Incident &incident, const QJsonObject &in);
    Reply putPostmortem(Incident &incident, const QJsonObject &in);
    Reply publishPostmortem(Incident &incident, const QJsonObject &in);
    Reply getPostmortem(const Incident &incident) const;
    // Validates and applies the common fields of a create or an update; an error reply when they are wrong.
    std::optional<Reply> apply(Incident &incident, const QJsonObject &in, bool creating);
    QJsonObject incidentJson(const Incident &incident) const;
    QJsonObject componentJson(const Component &component) const;
    Incident *findIncident(const QString &id);
    Component *findComponent(const QString &id);
    const Component *findComponent(const QString &id) const;
    bool admit(); // the rate limit
    QString newId();
    QString iso(qint64 ms) const;

    Options m_options;
    std::function<qint64()> m_now;
    std::vector<Component> m_components;
    std::vector<Incident> m_incidents;
    QElapsedTimer m_clock;
    double m_tokens = 0;
    qint64 m_tokensAtMs = 0;
    quint64 m_idState = 0x5eed;
    int m_writes = 0;
    int m_rateLimited = 0;
};

} // namespace fleet::sim
