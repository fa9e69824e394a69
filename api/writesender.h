#pragma once

#include <QByteArray>
#include <QList>
#include <QNetworkReply>
#include <QObject>
#include <QPair>
#include <QString>

#include <functional>
#include <memory>

namespace fleet {

struct ClientConfig;

// What came back for one HTTP request, whichever HTTP stack carried it: HttpTransport judges both the same way.
struct WireAnswer
{
    int status = 0; // 0: no HTTP answer (see networkError)
    QString reasonPhrase;
    QByteArray retryAfter; // the header's value, as sent
    QByteArray location;
    qint64 contentLength = -1; // -1: not announced
    QByteArray body;
    bool tooLarge = false; // announced or grew past the cap: aborted
    bool deadline = false; // no complete answer within the request's deadline
    QNetworkReply::NetworkError networkError = QNetworkReply::NoError;
    QString errorDetail;
};

// Sends one write (POST, PUT, PATCH, DELETE) exactly once, with libcurl on a worker thread (issue #20).
//
// Qt's HTTP stack sends a request again by itself when its connection closes or resets before the answer, whatever
// the method (QHttpNetworkConnectionChannel's resend), and cannot be told not to: a status-page create or update
// would be made twice. RFC 9110 §9.2.2 says a client must not retry a non-idempotent request automatically; only
// the application may, after finding out whether the first one acted. libcurl retries only a request sent on a
// reused keep-alive connection that turns out dead: every write here gets a fresh connection that is never reused
// (CURLOPT_FRESH_CONNECT, CURLOPT_FORBID_REUSE), HTTP/1.1 only, so libcurl has nothing to retry. Redirects are not
// followed, no proxy is taken from the environment (as with Qt's default), and the whole request has one deadline.
//
// The request is the QNetworkRequest every request of the client library starts from (networkRequest(): URL,
// Authorization, User-Agent, extra headers), so both stacks send the same thing. `done` runs on `receiver`'s thread,
// and not at all once cancel() was called for it; the transfer itself then stops within about a second.
class WriteSender
{
public:
    using Handle = std::shared_ptr<struct WriteSenderJob>;

    static Handle send(const ClientConfig &config, const QNetworkRequest &request, const QByteArray &verb,
        const QByteArray &body, int timeoutMs, qint64 maxBytes, QObject *receiver,
        std::function<void(WireAnswer)> done);
    // Stops the transfer and drops its answer. Must be called on `receiver`'s thread, before `receiver` dies.
    static void cancel(const Handle &handle);
};

} // namespace fleet
