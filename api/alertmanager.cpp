#include "alertmanager.h"

#include "httptransport.h"
#include "isotime.h"
#include "terminalsafe.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QPointer>
#include <QSet>

namespace fleet {

namespace {

template <typename T>
std::function<void(HttpTransport::Raw)> decoding(
    std::function<void(ApiResult<T>)> done, Result<T> (*decode)(const QByteArray &))
{
    return decodedAnswer<T>(
        std::move(done), decode, QStringLiteral("Alertmanager's answer is not what its API says: "));
}

Result<QString> decodeSilenceId(const QByteArray &body)
{
    const QJsonObject o = QJsonDocument::fromJson(body).object();
    const QString id = o.value(QLatin1String("silenceID")).toString();
    if (const QString problem = idProblem(id, QStringLiteral("silence")); !problem.isEmpty())
        return Result<QString>::failure(problem);
    return Result<QString>::success(id);
}

Result<bool> decodeNothing(const QByteArray &)
{
    return Result<bool>::success(true);
}

} // namespace

ClientConfig AlertmanagerConfig::clientConfig() const
{
    return serviceClientConfig(
        url, bearerToken, basicAuth, caFile, insecure, requestTimeoutMs, 16LL * 1024 * 1024, maxAttempts);
}

QString AlertmanagerConfig::problem() const
{
    return serviceUrlProblem(url, QStringLiteral("Alertmanager"));
}

AlertmanagerClient::AlertmanagerClient(AlertmanagerConfig config, QObject *parent)
    : QObject(parent)
    , m_config(std::move(config))
    , m_http(new HttpTransport(
          m_config.clientConfig(),
          [](ApiError &error, const QByteArray &body, const QString &reasonPhrase) {
              error.message = describeError(error.httpStatus, body, reasonPhrase);
          },
          this))
{
}

AlertmanagerClient::~AlertmanagerClient() = default;

QString AlertmanagerClient::describeError(int httpStatus, const QByteArray &body, const QString &reasonPhrase)
{
    // Alertmanager answers errors as a JSON string or plain text ("silence not found", "start time must be ...").
    QString said;
    const QJsonDocument doc = body.size() <= 64 * 1024 ? QJsonDocument::fromJson("[" + body + "]") : QJsonDocument();
    if (doc.isArray() && doc.array().at(0).isString())
        said = doc.array().at(0).toString();
    else if (body.size() <= 64 * 1024)
        said = QString::fromUtf8(body).trimmed();
    said = boundedText(said.isEmpty() ? reasonPhrase : said, 300);
    const QString tail = said.isEmpty() ? QString() : QStringLiteral(": ") + said;
    switch (httpStatus) {
    case 400:
        return QStringLiteral("Alertmanager refused the request (400)%1").arg(tail);
    case 401:
    case 403:
        return QStringLiteral("Alertmanager did not accept the credentials (%1)%2").arg(httpStatus).arg(tail);
    case 404:
        return QStringLiteral("Alertmanager has no such silence (404)%1").arg(tail);
    default:
        return QStringLiteral("Alertmanager answered HTTP %1%2").arg(httpStatus).arg(tail);
    }
}

void AlertmanagerClient::alerts(QObject *context, Callback<QList<AmAlert>> done)
{
    HttpTransport::Request r;
    r.path = QStringLiteral("/api/v2/alerts/groups");
    m_http->send(r, context, decoding<QList<AmAlert>>(std::move(done), &decodeAlertGroups));
}

void AlertmanagerClient::silences(QObject *context, Callback<QList<AmSilence>> done)
{
    HttpTransport::Request r;
    r.path = QStringLiteral("/api/v2/silences");
    m_http->send(r, context, decoding<QList<AmSilence>>(std::move(done), &decodeSilences));
}

void AlertmanagerClient::createSilence(const QList<AmMatcher> &matchers, qint64 endsAtMs, const QString &createdBy,
    const QString &comment, const QString &key, QObject *context, Callback<QString> done)
{
    QJsonArray ms;
    for (const AmMatcher &m : matchers)
        ms.append(QJsonObject { { QStringLiteral("name"), m.name }, { QStringLiteral("value"), m.value },
            { QStringLiteral("isRegex"), m.isRegex }, { QStringLiteral("isEqual"), m.isEqual } });
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    const QString mark = keyMark(key);
    const QJsonObject body { { QStringLiteral("matchers"), ms }, { QStringLiteral("startsAt"), formatIsoUtc(now) },
        { QStringLiteral("endsAt"), formatIsoUtc(endsAtMs) }, { QStringLiteral("createdBy"), createdBy },
        { QStringLiteral("comment"), QString(comment + QLatin1Char(' ') + mark) } };
    HttpTransport::Request r;
    r.verb = "POST";
    r.path = QStringLiteral("/api/v2/silences");
    r.body = QJsonDocument(body).toJson(QJsonDocument::Compact);
    QPointer<QObject> guard(context);
    // No idempotency key in the API: after an unknown outcome the silences are read for this request's key.
    auto lookUp = [this, guard, mark, done](std::function<void(HttpTransport::Found)> happened) {
        silences(guard.data(), [mark, done, happened](ApiResult<QList<AmSilence>> all) {
            if (!all.ok()) {
                happened(HttpTransport::Found::Unknown);
                return;
            }
            for (const AmSilence &s : *all) {
                if (s.comment.contains(mark)) {
                    done(ApiResult<QString>::success(s.id));
                    happened(HttpTransport::Found::Yes);
                    return;
                }
            }
            happened(HttpTransport::Found::No);
        });
    };
    m_http->sendOnce(r, context, decoding<QString>(std::move(done), &decodeSilenceId), std::move(lookUp),
        QStringLiteral("create silence"));
}

void AlertmanagerClient::expireSilence(const QString &id, QObject *context, Callback<bool> done)
{
    if (refuseBadId(id, QStringLiteral("silence"), context, done))
        return;
    HttpTransport::Request r;
    r.verb = "DELETE";
    r.path = QStringLiteral("/api/v2/silence/") + id;
    QPointer<QObject> guard(context);
    // Expiring twice does no harm, but an unknown outcome is still looked up: expired is an answer, not a guess.
    auto lookUp = [this, guard, id, done](std::function<void(HttpTransport::Found)> happened) {
        silences(guard.data(), [id, done, happened](ApiResult<QList<AmSilence>> all) {
            if (!all.ok()) {
                happened(HttpTransport::Found::Unknown);
                return;
            }
            for (const AmSilence &s : *all) {
                if (s.id == id && s.state == QLatin1String("expired")) {
                    done(ApiResult<bool>::success(true));
                    happened(HttpTransport::Found::Yes);
                    return;
                }
            }
            happened(HttpTransport::Found::No);
        });
    };
    m_http->sendOnce(r, context, decoding<bool>(std::move(done), &decodeNothing), std::move(lookUp),
        QStringLiteral("expire silence ") + id);
}

} // namespace fleet
