#pragma once

#include "fleettypes.h"
#include "result.h"

#include <QNetworkReply>
#include <QString>

#include <optional>

namespace fleet {

// What went wrong talking to the Fleet API, classified so callers can decide (retry, re-authenticate, give up),
// with a sentence a person can act on in `message`.
struct ApiError
{
    enum class Kind {
        None,
        Network, // refused, unreachable, reset, DNS
        Timeout, // no complete answer in time
        Tls, // certificate not trusted, handshake failed
        Unauthorized, // 401: token missing or not accepted
        Forbidden, // 403: token lacks the role
        Http, // any other error status
        Decode, // the answer is not what the contract says
        TooLarge, // the answer exceeded the size cap
        Cancelled,
        Invalid, // refused before sending: the request would carry an id outside the contract (nothing was sent)
    };

    Kind kind = Kind::None;
    int httpStatus = 0;
    QString message;
    int retryAfterSeconds = -1; // from Retry-After, when the server sent one
    std::optional<Problem> problem; // the server's problem document, when it sent one
    bool neverSent = false; // refused or no such host: the request never reached a server

    bool isError() const { return kind != Kind::None; }
    // Worth trying again later: the network, timeouts, 5xx and 429. Not auth, decode or other 4xx.
    bool transient() const;
    // The action may have happened on the server even though no answer came: reconcile before retrying.
    bool outcomeUnknown() const;

    static ApiError fromNetwork(QNetworkReply::NetworkError error, const QString &detail);
};

// "connection refused", "host unreachable", "TLS certificate not trusted", ... in words.
QString describeNetworkError(QNetworkReply::NetworkError error);

// The result of a Fleet API call: the decoded answer, or an ApiError to decide on (retry, re-authenticate, give up).
template <typename T> using ApiResult = Result<T, ApiError>;

} // namespace fleet
