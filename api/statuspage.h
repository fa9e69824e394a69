#pragma once

#include "apierror.h"
#include "clientconfig.h"
#include "result.h"

#include <QJsonObject>
#include <QList>
#include <QMap>
#include <QObject>
#include <QString>

#include <functional>
#include <memory>

namespace fleet {

class HttpTransport;

// Atlassian Statuspage REST API v1 (shared/specs/statuspage-openapi.yaml), the calls the console publishes with.
namespace statuspage {

// Incident statuses of a realtime incident, in lifecycle order. A status the server sends that is not one of these
// (a scheduled maintenance's, or a new one) is kept as text and shown as it is.
inline const QStringList &incidentStatuses()
{
    static const QStringList s { QStringLiteral("investigating"), QStringLiteral("identified"),
        QStringLiteral("monitoring"), QStringLiteral("resolved") };
    return s;
}
inline const QStringList &componentStatuses()
{
    static const QStringList s { QStringLiteral("operational"), QStringLiteral("degraded_performance"),
        QStringLiteral("partial_outage"), QStringLiteral("major_outage"), QStringLiteral("under_maintenance") };
    return s;
}
inline const QStringList &impacts()
{
    static const QStringList s { QStringLiteral("none"), QStringLiteral("minor"), QStringLiteral("major"),
        QStringLiteral("critical"), QStringLiteral("maintenance") };
    return s;
}
// "degraded_performance" -> "Degraded performance"
QString inWords(const QString &wireName);

constexpr int kMaxName = 255;
constexpr int kMaxBody = 25000;

struct Component
{
    QString id;
    QString name;
    QString status; // one of componentStatuses(), or what the server sent
    int position = 0;
    QString groupId;
    bool group = false;
};

struct AffectedComponent
{
    QString code;
    QString name;
    QString oldStatus;
    QString newStatus;
};

struct IncidentUpdate
{
    QString id;
    QString status;
    QString body;
    qint64 createdAt = 0; // ms since the epoch, UTC
    qint64 displayAt = 0;
    bool deliverNotifications = false;
    QList<AffectedComponent> affected;
};

struct Incident
{
    QString id;
    QString name;
    QString status;
    QString impact;
    QString shortlink;
    qint64 createdAt = 0;
    qint64 updatedAt = 0;
    qint64 monitoringAt = 0;
    qint64 resolvedAt = 0;
    QJsonObject metadata;
    QList<Component> components;
    QList<IncidentUpdate> updates; // newest first, as the API sends them
    QString postmortemBody;
    bool postmortemPublished = false;

    // The keys this console put in the metadata: the incident's, and that of the last update it wrote.
    QString consoleKey() const;
    QString lastUpdateKey() const;
};

struct Postmortem
{
    QString bodyDraft;
    QString body;
    qint64 publishedAt = 0;
};

// A create or an update of an incident: one request, the status, the words and the component statuses together.
struct IncidentChange
{
    QString name; // required to create; optional on update
    QString status; // one of incidentStatuses()
    QString body;
    QString impactOverride; // empty: the page computes it
    QMap<QString, QString> components; // component id -> status
    bool deliverNotifications = true; // always chosen explicitly by the engineer
    QString incidentKey; // console-made; in the metadata, so a create can be found again
    QString updateKey; // console-made, per write

    // What is wrong with it before anything is sent ("the name has 300 characters; the status page takes 255"),
    // empty when it can be sent.
    QString problem(bool creating) const;
    QByteArray toJson() const; // {"incident": {...}}
    QJsonObject toValue() const; // for the outbox
    static IncidentChange fromValue(const QJsonObject &value);
};

// How far apart the page's clock and ours may be when a create or update is recognised by its time.
constexpr qint64 kClockMarginMs = 2 * 60 * 1000;
// Whether `incident` is the one a create of `change`, first sent at `sentAtMs`, made: by the console's key in its
// metadata, or, where the page kept no metadata of ours, by the same name created no earlier than the send (less
// the clock margin).
bool madeBy(const Incident &incident, const IncidentChange &change, qint64 sentAtMs);
// Whether `incident` already shows the update `change` (key in change.updateKey), first sent at `sentAtMs`: by the
// key of its last update in the metadata, or, without our metadata, by an update with the same status and words
// posted no earlier than the send (less the clock margin).
bool carries(const Incident &incident, const IncidentChange &change, qint64 sentAtMs);

// Decoders: bounded (strings, lists), tolerant of unknown fields and values, strict on types that matter.
Result<QList<Component>> decodeComponents(const QByteArray &json);
Result<Incident> decodeIncident(const QByteArray &json);
Result<QList<Incident>> decodeIncidents(const QByteArray &json);
Result<Postmortem> decodePostmortem(const QByteArray &json);
// The words of an error body: {"message": "..."} or {"error": "..."} or {"error": ["...", ...]}; empty if neither.
QString decodeErrorBody(const QByteArray &json);

} // namespace statuspage

struct StatusPageConfig
{
    QUrl baseUrl = QUrl(QStringLiteral("https://api.statuspage.io/v1")); // with the version; paths are appended
    QString pageId;
    QString apiKey; // never logged
    QString caFile;
    bool insecure = false;
    int requestTimeoutMs = 15000;

    // Where a configuration is incomplete or wrong, in words; empty when usable.
    QString problem() const;
    ClientConfig clientConfig() const; // OAuth scheme, one write a second, 15 s requests
};

// The status page's API over the shared HttpTransport: writes paced at one a second, 420/429 Retry-After honoured,
// reads retried with backoff, and a create never made twice: the console's key goes into the incident's metadata,
// and after a timeout or a 5xx the unresolved incidents are searched for it before the create is sent again.
// Updates carry their own key the same way. Callbacks run on `context`'s thread, not at all if it is destroyed.
class StatuspageClient : public QObject
{
    Q_OBJECT

public:
    template <typename T> using Callback = std::function<void(ApiResult<T>)>;

    explicit StatuspageClient(StatusPageConfig config, QObject *parent = nullptr);
    ~StatuspageClient() override;

    const StatusPageConfig &config() const { return m_config; }

    void components(QObject *context, Callback<QList<statuspage::Component>> done); // every page of them
    void unresolved(QObject *context, Callback<QList<statuspage::Incident>> done);
    void incidents(const QString &search, int limit, QObject *context, Callback<QList<statuspage::Incident>> done);
    void incident(const QString &id, QObject *context, Callback<statuspage::Incident> done);
    void create(const statuspage::IncidentChange &change, QObject *context, Callback<statuspage::Incident> done);
    void update(const QString &incidentId, const statuspage::IncidentChange &change, QObject *context,
        Callback<statuspage::Incident> done);
    // The incident a create of `change`, first sent at `sentAtMs`, made, if the page has it (madeBy). Searches
    // every page of the unresolved incidents and of the incident list (resolved ones too) back to the send. A "not
    // found" (a success with an empty id) is said only when that search covered everything created since the
    // send; when it could not (a page unreadable, the list longer than the search may go) the answer is an error:
    // the outcome is unknown, and nothing may be sent again on its strength.
    void findCreated(const statuspage::IncidentChange &change, qint64 sentAtMs, QObject *context,
        Callback<statuspage::Incident> done);
    static constexpr int kMaxLookUpPages = 10; // of 100 incidents each
    void putPostmortem(
        const QString &incidentId, const QString &draft, QObject *context, Callback<statuspage::Postmortem> done);
    void publishPostmortem(
        const QString &incidentId, bool notifySubscribers, QObject *context, Callback<statuspage::Postmortem> done);

Q_SIGNALS:
    void requestFinished(const QString &endpoint, int httpStatus, const QString &error);

private:
    QString pagePath(const QString &rest) const;
    void componentsPage(
        int page, QList<statuspage::Component> sofar, QObject *context, Callback<QList<statuspage::Component>> done);
    struct Search;
    void searchUnresolved(std::shared_ptr<Search> search, int page);
    void searchAll(std::shared_ptr<Search> search, int page);

    StatusPageConfig m_config;
    HttpTransport *m_http;
};

} // namespace fleet
