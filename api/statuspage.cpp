#include "statuspage.h"

#include "httptransport.h"
#include "terminalsafe.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QLoggingCategory>

Q_LOGGING_CATEGORY(lcStatusPage, "fleet.statuspage", QtInfoMsg)

namespace fleet {

using namespace statuspage;

QString StatusPageConfig::problem() const
{
    if (!baseUrl.isValid() || (baseUrl.scheme() != QLatin1String("https") && baseUrl.scheme() != QLatin1String("http"))
        || baseUrl.host().isEmpty())
        return QStringLiteral("the status page URL \"%1\" is not an http(s) URL with a host, such as "
                              "https://api.statuspage.io/v1")
            .arg(baseUrl.toDisplayString());
    if (pageId.trimmed().isEmpty())
        return QStringLiteral("no page id: set it (the id in the page's URL on manage.statuspage.io)");
    if (pageId.contains(u'/') || pageId.contains(u'?') || pageId.contains(u'#'))
        return QStringLiteral("the page id \"%1\" has characters a page id cannot have").arg(pageId);
    if (apiKey.isEmpty())
        return QStringLiteral("no API key: enter it in Settings (kept in the keychain), set STATUSPAGE_API_KEY, or "
                              "use a 0600 key file");
    return {};
}

ClientConfig StatusPageConfig::clientConfig() const
{
    ClientConfig c;
    c.baseUrl = baseUrl;
    c.token = apiKey;
    c.authScheme = "OAuth";
    c.caFile = caFile;
    c.insecure = insecure;
    c.maxResponseBytes = 16LL * 1024 * 1024;
    c.requestTimeoutMs = requestTimeoutMs;
    c.minWriteIntervalMs = 1000; // about one request a second per key
    c.maxRetryAfterSeconds = 60;
    // Few, short retries here: a write the page does not take soon stays in the outbox, which keeps trying.
    c.maxAttempts = 3;
    c.backoffBaseMs = 500;
    c.backoffCapMs = 4000;
    return c;
}

StatuspageClient::StatuspageClient(StatusPageConfig config, QObject *parent)
    : QObject(parent)
    , m_config(std::move(config))
    , m_http(new HttpTransport(
          m_config.clientConfig(),
          [](ApiError &error, const QByteArray &body, const QString &reasonPhrase) {
              const QString words = decodeErrorBody(body);
              const QString said = words.isEmpty() ? reasonPhrase : words;
              switch (error.kind) {
              case ApiError::Kind::Unauthorized:
                  error.message = QStringLiteral("the status page did not accept the API key (401)%1")
                                      .arg(said.isEmpty() ? QString() : QStringLiteral(": ") + said);
                  break;
              case ApiError::Kind::Forbidden:
                  error.message = QStringLiteral("the API key may not do this (403)%1")
                                      .arg(said.isEmpty() ? QString() : QStringLiteral(": ") + said);
                  break;
              default:
                  error.message = QStringLiteral("HTTP %1%2")
                                      .arg(error.httpStatus)
                                      .arg(said.isEmpty() ? QString() : QStringLiteral(": ") + said);
                  if (error.httpStatus == 420 || error.httpStatus == 429)
                      error.message += QStringLiteral(" (rate limited; retry after %1 s)")
                                           .arg(std::max(error.retryAfterSeconds, 1));
              }
          },
          this))
{
    connect(m_http, &HttpTransport::requestFinished, this, &StatuspageClient::requestFinished);
}

StatuspageClient::~StatuspageClient() = default;

QString StatuspageClient::pagePath(const QString &rest) const
{
    return QStringLiteral("/pages/") + QString::fromLatin1(QUrl::toPercentEncoding(m_config.pageId)) + rest;
}

namespace {

template <typename T>
std::function<void(HttpTransport::Raw)> decoding(
    std::function<void(ApiResult<T>)> done, Result<T> (*decode)(const QByteArray &))
{
    return decodedAnswer<T>(
        std::move(done), decode, QStringLiteral("the status page's answer is not what its API says: "));
}

} // namespace

void StatuspageClient::components(QObject *context, Callback<QList<Component>> done)
{
    componentsPage(1, {}, context, std::move(done));
}

void StatuspageClient::componentsPage(
    int page, QList<Component> sofar, QObject *context, Callback<QList<Component>> done)
{
    HttpTransport::Request r;
    r.path = pagePath(QStringLiteral("/components?per_page=100&page=%1").arg(page));
    QPointer<QObject> guard(context);
    m_http->send(r, context,
        decoding<QList<Component>>(
            [this, page, sofar, guard, done](ApiResult<QList<Component>> got) mutable {
                if (!got.ok() || !guard) {
                    done(std::move(got));
                    return;
                }
                const bool more = got->size() == 100 && page < 20; // at most 2,000 components
                sofar += got.take();
                if (more)
                    componentsPage(page + 1, std::move(sofar), guard.data(), std::move(done));
                else
                    done(ApiResult<QList<Component>>::success(std::move(sofar)));
            },
            &decodeComponents));
}

void StatuspageClient::unresolved(QObject *context, Callback<QList<Incident>> done)
{
    HttpTransport::Request r;
    r.path = pagePath(QStringLiteral("/incidents/unresolved"));
    m_http->send(r, context, decoding<QList<Incident>>(std::move(done), &decodeIncidents));
}

void StatuspageClient::incidents(const QString &search, int limit, QObject *context, Callback<QList<Incident>> done)
{
    HttpTransport::Request r;
    r.path = pagePath(QStringLiteral("/incidents?limit=%1").arg(std::clamp(limit, 1, 100)));
    if (!search.isEmpty())
        r.path += QStringLiteral("&q=") + QString::fromLatin1(QUrl::toPercentEncoding(search));
    m_http->send(r, context, decoding<QList<Incident>>(std::move(done), &decodeIncidents));
}

void StatuspageClient::incident(const QString &id, QObject *context, Callback<Incident> done)
{
    if (refuseBadId(id, QStringLiteral("incident"), context, done))
        return;
    HttpTransport::Request r;
    r.path = pagePath(QStringLiteral("/incidents/") + id);
    m_http->send(r, context, decoding<Incident>(std::move(done), &decodeIncident));
}

struct StatuspageClient::Search
{
    IncidentChange change;
    qint64 sentAtMs = 0;
    QPointer<QObject> context;
    Callback<Incident> done;
    void found(const Incident &i) { done(ApiResult<Incident>::success(i)); }
    void unknown(const QString &why)
    {
        ApiError e;
        e.kind = ApiError::Kind::Decode;
        e.message = QStringLiteral("could not prove whether the page has the incident: ") + why;
        done(ApiResult<Incident>::failure(e));
    }
};

void StatuspageClient::findCreated(
    const IncidentChange &change, qint64 sentAtMs, QObject *context, Callback<Incident> done)
{
    auto search = std::make_shared<Search>();
    search->change = change;
    search->sentAtMs = sentAtMs;
    search->context = context;
    search->done = std::move(done);
    searchUnresolved(search, 1);
}

void StatuspageClient::searchUnresolved(std::shared_ptr<Search> search, int page)
{
    if (!search->context)
        return;
    HttpTransport::Request r;
    r.path = pagePath(QStringLiteral("/incidents/unresolved?per_page=100&page=%1").arg(page));
    m_http->send(r, search->context.data(),
        decoding<QList<Incident>>(
            [this, search, page](ApiResult<QList<Incident>> got) {
                if (!got.ok())
                    return search->done(ApiResult<Incident>::failure(got.error()));
                for (const Incident &i : *got) {
                    if (madeBy(i, search->change, search->sentAtMs))
                        return search->found(i);
                }
                if (got->size() >= 100 && page < kMaxLookUpPages)
                    return searchUnresolved(search, page + 1);
                searchAll(search, 1); // it may have been resolved since, by anyone
            },
            &decodeIncidents));
}

void StatuspageClient::searchAll(std::shared_ptr<Search> search, int page)
{
    if (!search->context)
        return;
    HttpTransport::Request r;
    r.path = pagePath(QStringLiteral("/incidents?limit=100&page=%1").arg(page));
    m_http->send(r, search->context.data(),
        decoding<QList<Incident>>(
            [this, search, page](ApiResult<QList<Incident>> got) {
                if (!got.ok())
                    return search->done(ApiResult<Incident>::failure(got.error()));
                bool reachedOlder = false; // newest first: past the send, nothing later can be ours
                for (const Incident &i : *got) {
                    if (madeBy(i, search->change, search->sentAtMs))
                        return search->found(i);
                    reachedOlder = reachedOlder || (i.createdAt > 0 && i.createdAt < search->sentAtMs - kClockMarginMs);
                }
                if (reachedOlder || got->size() < 100)
                    return search->found(Incident {}); // everything since the send was seen: not there
                if (page < kMaxLookUpPages)
                    return searchAll(search, page + 1);
                search->unknown(
                    QStringLiteral("more than %1 incidents were created since it was sent").arg(kMaxLookUpPages * 100));
            },
            &decodeIncidents));
}

void StatuspageClient::create(const IncidentChange &change, QObject *context, Callback<Incident> done)
{
    HttpTransport::Request r;
    r.verb = "POST";
    r.path = pagePath(QStringLiteral("/incidents"));
    r.body = change.toJson();
    QPointer<QObject> guard(context);
    // The API has no idempotency key: after an unknown outcome, look for the console's key among the unresolved
    // incidents; found, that is the answer and nothing is sent again.
    // The page has no idempotency key: a look-up that cannot be read is no evidence that the create did not arrive,
    // so nothing is sent again then (the outbox asks again later).
    const qint64 sentAt = QDateTime::currentMSecsSinceEpoch();
    auto lookUp = [this, guard, change, sentAt, done](std::function<void(HttpTransport::Found)> happened) {
        findCreated(change, sentAt, guard.data(), [done, happened](ApiResult<Incident> found) {
            if (found.ok() && !found->id.isEmpty()) {
                qCInfo(lcStatusPage).noquote() << "the incident had been created as" << terminalSafe(found->id);
                done(std::move(found));
                happened(HttpTransport::Found::Yes);
                return;
            }
            happened(found.ok() ? HttpTransport::Found::No : HttpTransport::Found::Unknown);
        });
    };
    m_http->sendOnce(
        r, context, decoding<Incident>(done, &decodeIncident), std::move(lookUp), QStringLiteral("create incident"));
}

void StatuspageClient::update(
    const QString &incidentId, const IncidentChange &change, QObject *context, Callback<Incident> done)
{
    if (refuseBadId(incidentId, QStringLiteral("incident"), context, done))
        return;
    HttpTransport::Request r;
    r.verb = "PATCH";
    r.path = pagePath(QStringLiteral("/incidents/") + incidentId);
    r.body = change.toJson();
    QPointer<QObject> guard(context);
    // An update is a new entry on the public page: sent twice, it shows twice. Its key in the metadata (or, where
    // the page dropped the metadata, its words and time) says whether an update whose answer was lost arrived.
    const qint64 sentAt = QDateTime::currentMSecsSinceEpoch();
    auto lookUp = [this, guard, incidentId, change, sentAt, done](std::function<void(HttpTransport::Found)> happened) {
        incident(incidentId, guard.data(), [change, sentAt, done, happened](ApiResult<Incident> found) {
            if (found.ok() && carries(*found, change, sentAt)) {
                qCInfo(lcStatusPage).noquote() << "the update of" << terminalSafe(found->id) << "had arrived";
                done(std::move(found));
                happened(HttpTransport::Found::Yes);
                return;
            }
            happened(found.ok() ? HttpTransport::Found::No : HttpTransport::Found::Unknown);
        });
    };
    m_http->sendOnce(r, context, decoding<Incident>(done, &decodeIncident), std::move(lookUp),
        QStringLiteral("update incident ") + incidentId);
}

void StatuspageClient::putPostmortem(
    const QString &incidentId, const QString &draft, QObject *context, Callback<Postmortem> done)
{
    if (refuseBadId(incidentId, QStringLiteral("incident"), context, done))
        return;
    HttpTransport::Request r;
    r.verb = "PUT";
    r.path = pagePath(QStringLiteral("/incidents/%1/postmortem").arg(incidentId));
    r.body = QJsonDocument(
        QJsonObject { { QStringLiteral("postmortem"), QJsonObject { { QStringLiteral("body_draft"), draft } } } })
                 .toJson(QJsonDocument::Compact);
    r.retryTransient = true; // replacing the draft with the same text twice changes nothing
    m_http->send(r, context, decoding<Postmortem>(std::move(done), &decodePostmortem));
}

void StatuspageClient::publishPostmortem(
    const QString &incidentId, bool notifySubscribers, QObject *context, Callback<Postmortem> done)
{
    if (refuseBadId(incidentId, QStringLiteral("incident"), context, done))
        return;
    HttpTransport::Request r;
    r.verb = "PUT";
    const QString path = pagePath(QStringLiteral("/incidents/%1/postmortem").arg(incidentId));
    r.path = path + QStringLiteral("/publish");
    r.body = QJsonDocument(QJsonObject { { QStringLiteral("postmortem"),
                               QJsonObject { { QStringLiteral("notify_subscribers"), notifySubscribers },
                                   { QStringLiteral("notify_twitter"), false } } } })
                 .toJson(QJsonDocument::Compact);
    QPointer<QObject> guard(context);
    // Published twice, subscribers may be notified twice: an unreadable look-up sends nothing again.
    auto lookUp = [this, guard, path, done](std::function<void(HttpTransport::Found)> happened) {
        HttpTransport::Request get;
        get.path = path;
        m_http->send(get, guard.data(),
            decoding<Postmortem>(
                [done, happened](ApiResult<Postmortem> pm) {
                    if (pm.ok() && pm->publishedAt > 0) {
                        done(std::move(pm));
                        happened(HttpTransport::Found::Yes);
                        return;
                    }
                    happened(pm.ok() ? HttpTransport::Found::No : HttpTransport::Found::Unknown);
                },
                &decodePostmortem));
    };
    m_http->sendOnce(r, context, decoding<Postmortem>(done, &decodePostmortem), std::move(lookUp),
        QStringLiteral("publish postmortem of ") + incidentId);
}

} // namespace fleet
