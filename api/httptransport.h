#pragma once

#include "apierror.h"
#include "backoff.h"
#include "clientconfig.h"
#include "result.h"
#include "writesender.h"

#include <QElapsedTimer>
#include <QObject>
#include <QPointer>

#include <algorithm>
#include <functional>

class QDateTime;
class QNetworkAccessManager;
class QNetworkReply;
class QNetworkRequest;
class QThread;

namespace fleet {

// The HTTP under every API client of the console (the Fleet API, the status page), so that they time out, cap,
// retry, back off and reconcile the same way: a transfer timeout and a deadline on every request, a size cap on
// every answer, no redirects followed (credentials stay with their origin), Retry-After honoured on 420/429/503,
// transient failures of reads retried with backoff, writes paced when the server allows only so many, and a write
// whose outcome is unknown looked up before it is sent again (sendOnce). Each client says how its server words an
// error body. Callbacks run on `context`'s thread and are dropped if `context` is destroyed first.
//
// Trust (issue #20): a write (any verb but GET and HEAD) goes out through WriteSender (libcurl, a fresh connection,
// never re-sent by the library); only this class's sendOnce() sends it again, after its look-up proved the first
// never arrived. Reads, safe to repeat, stay on Qt's stack. A path with an empty, "." or ".." segment is refused
// before anything is sent. Every retry waits at least a second plus jitter, whatever Retry-After says (seconds or an
// HTTP date). The configured token never appears in what comes back: it is replaced by "<redacted>" in every
// message, problem document and body before a caller sees them.
class HttpTransport : public QObject
{
    Q_OBJECT

public:
    struct Request
    {
        QByteArray verb = "GET";
        QString path; // with query, appended to the configured base URL's path
        QByteArray body;
        QByteArray contentType = "application/json"; // of the body, when there is one
        QString idempotencyKey; // sent as Idempotency-Key when set
        int timeoutMs = 0; // 0: the configured request timeout
        bool retryTransient = true; // safe to repeat blindly (reads)
        bool ownThread = false; // a large answer (a snapshot): read on the transport's network thread
        qint64 maxBytes = 0; // 0: the configured maxResponseBytes; smaller for answers that are small by contract
    };
    struct Raw
    {
        int status = 0;
        QByteArray body;
        ApiError error;
    };
    // Words an error answer (4xx or 5xx): sets `error.message` (the endpoint is prefixed afterwards) and, where the
    // server sent one, `error.problem`. Kind, status and Retry-After are set before. Runs on the reading thread.
    using ErrorDescriber = std::function<void(ApiError &error, const QByteArray &body, const QString &reasonPhrase)>;
    // Asks the server whether a write whose outcome is unknown took effect, and answers with one of these: Yes (it
    // did, and the look-up has delivered the result itself), No (send it again), Unknown (the question could not be
    // answered either: the write's own unknown outcome is reported and nothing is sent; the caller asks later).
    enum class Found { Yes, No, Unknown };
    using LookUp = std::function<void(std::function<void(Found)>)>;

    HttpTransport(ClientConfig config, ErrorDescriber describeError, QObject *parent = nullptr);
    ~HttpTransport() override;

    const ClientConfig &config() const { return m_config; }
    void send(const Request &request, QObject *context, std::function<void(Raw)> done);
    // A write that must not happen twice (no idempotency on the server, or a key the server honours): never retried
    // blindly; after a timeout, a reset or a 5xx, `lookUp` decides, then it is sent again (up to maxAttempts).
    void sendOnce(const Request &request, QObject *context, std::function<void(Raw)> done, LookUp lookUp,
        const QString &description);
    QString endpoint(const Request &request) const;

    // Request headers as they may be logged: Authorization is replaced by "<redacted>".
    static QByteArray describeForLog(const QNetworkRequest &request, const QByteArray &verb);
    // Retry-After in seconds (0 .. 1 day), from seconds or an HTTP date (IMF-fixdate, RFC 850 or asctime, compared
    // with `now`); -1 when absent or unreadable.
    static int parseRetryAfter(const QByteArray &value, const QDateTime &now);
    static int parseRetryAfter(const QByteArray &value);
    // How long before the next try: Retry-After when the server sent one (seconds; -1 if not), else `backoffMs`;
    // never under kMinRetryMs, plus up to a fifth more of jitter so that clients told the same thing spread out.
    static qint64 retryDelayMs(int retryAfterSeconds, qint64 backoffMs);
    static constexpr qint64 kMinRetryMs = 1000;
    // Why `pathAndQuery` cannot be sent (an empty, "." or ".." segment, which a URL resolver would fold into
    // another resource); empty when it can.
    static QString pathProblem(const QString &pathAndQuery);
    // `text` with every occurrence of `secret` (at least 4 characters) replaced by "<redacted>".
    static void redact(QString &text, const QString &secret);
    static void redact(QByteArray &bytes, const QString &secret);

Q_SIGNALS:
    // After every request that reached a conclusion; for status bars and fleetctl's verbose mode.
    void requestFinished(const QString &endpoint, int httpStatus, const QString &error);

private:
    void sendAttempt(const Request &request, QObject *context, std::function<void(Raw)> done, int attempt);
    void sendOnceAttempt(const Request &request, QPointer<QObject> context, std::function<void(Raw)> done,
        LookUp lookUp, const QString &description, int attempt);
    void transferFor(const Request &request, QPointer<QObject> guard, std::function<void(Raw)> done, int attempt);
    void transfer(QNetworkAccessManager *nam, const Request &request, int attempt, std::function<void(Raw)> concluded);
    void transferOnce(const Request &request, int attempt, std::function<void(Raw)> concluded);
    void settle(const Request &request, QPointer<QObject> guard, std::function<void(Raw)> done, int attempt, Raw raw);
    Raw conclude(WireAnswer answer, const Request &request) const;
    QNetworkRequest prepare(const Request &request, int attempt) const;
    int timeoutOf(const Request &request) const
    {
        return request.timeoutMs > 0 ? request.timeoutMs : m_config.requestTimeoutMs;
    }
    qint64 limitOf(const Request &request) const
    {
        return request.maxBytes > 0 ? std::min(request.maxBytes, m_config.maxResponseBytes) : m_config.maxResponseBytes;
    }
    QNetworkAccessManager *networkThreadManager();
    int writeDelayMs(const Request &request); // pacing: how long this write waits for its turn

    ClientConfig m_config;
    ErrorDescriber m_describeError;
    QNetworkAccessManager *m_nam;
    QThread *m_networkThread = nullptr; // started on the first large answer
    QNetworkAccessManager *m_threadNam = nullptr; // lives on m_networkThread
    Backoff m_backoff;
    QElapsedTimer m_clock;
    qint64 m_nextWriteAtMs = 0;
    QList<WriteSender::Handle> m_writes; // in flight: cancelled with this transport
};

// The usual end of a request, for any client: a transport error goes to `done` as it is; otherwise the body is
// decoded, and a body that does not decode is a Decode error worded `what` + why ("the status page's answer is not
// what its API says: ...").
template <typename T>
std::function<void(HttpTransport::Raw)> decodedAnswer(
    std::function<void(ApiResult<T>)> done, std::function<Result<T>(const QByteArray &)> decode, const QString &what)
{
    return [done = std::move(done), decode = std::move(decode), what](HttpTransport::Raw raw) {
        if (raw.error.isError()) {
            done(ApiResult<T>::failure(raw.error));
            return;
        }
        Result<T> decoded = decode(raw.body);
        if (decoded.ok()) {
            done(ApiResult<T>::success(decoded.take()));
            return;
        }
        ApiError e;
        e.kind = ApiError::Kind::Decode;
        e.message = what + decoded.error();
        done(ApiResult<T>::failure(e));
    };
}

// Whether `id` cannot go into a URL path (idProblem(id, what)). If it cannot, `done` gets that as an Invalid error
// on the next turn of `context`'s event loop (never from inside the call that asked), and not at all if `context`
// is destroyed first: nothing is sent.
template <typename T>
bool refuseBadId(
    const QString &id, const QString &what, QObject *context, const std::function<void(ApiResult<T>)> &done)
{
    const QString problem = idProblem(id, what);
    if (problem.isEmpty())
        return false;
    ApiError e;
    e.kind = ApiError::Kind::Invalid;
    e.message = problem;
    if (context)
        QMetaObject::invokeMethod(
            context, [done, e] { done(ApiResult<T>::failure(e)); }, Qt::QueuedConnection);
    return true;
}

} // namespace fleet
