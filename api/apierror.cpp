#include "apierror.h"

namespace fleet {

bool ApiError::transient() const
{
    switch (kind) {
    case Kind::Network:
    case Kind::Timeout:
        return true;
    case Kind::Http:
        return httpStatus >= 500 || httpStatus == 429 || httpStatus == 420
            || httpStatus == 408; // 420: Statuspage's limit
    default:
        return false;
    }
}

bool ApiError::outcomeUnknown() const
{
    // A refused connection never reached the server; a timeout, a reset or a 5xx may have acted.
    if (kind == Kind::Timeout)
        return true;
    if (kind == Kind::Http)
        return httpStatus >= 500;
    return kind == Kind::Network && !neverSent;
}

QString describeNetworkError(QNetworkReply::NetworkError error)
{
    using E = QNetworkReply::NetworkError;
    switch (error) {
    case E::ConnectionRefusedError:
        return QStringLiteral("connection refused (is the server running on that port?)");
    case E::RemoteHostClosedError:
        return QStringLiteral("the server closed the connection");
    case E::HostNotFoundError:
        return QStringLiteral("host not found (DNS: check the URL)");
    case E::TimeoutError:
    case E::OperationCanceledError:
        return QStringLiteral("connection timed out");
    case E::SslHandshakeFailedError:
        return QStringLiteral("TLS certificate not trusted or TLS handshake failed (use --ca-file for a private CA)");
    case E::TemporaryNetworkFailureError:
    case E::NetworkSessionFailedError:
        return QStringLiteral("network temporarily unavailable");
    case E::ProxyConnectionRefusedError:
    case E::ProxyConnectionClosedError:
    case E::ProxyNotFoundError:
    case E::ProxyTimeoutError:
    case E::ProxyAuthenticationRequiredError:
        return QStringLiteral("proxy failure");
    case E::UnknownNetworkError:
        return QStringLiteral("host unreachable");
    case E::ProtocolUnknownError:
        return QStringLiteral("unsupported URL scheme (use http:// or https://)");
    case E::ProtocolInvalidOperationError:
    case E::ProtocolFailure:
        return QStringLiteral("the server broke the HTTP protocol");
    default:
        return QStringLiteral("network error");
    }
}

ApiError ApiError::fromNetwork(QNetworkReply::NetworkError error, const QString &detail)
{
    ApiError e;
    using E = QNetworkReply::NetworkError;
    e.kind = error == E::TimeoutError || error == E::OperationCanceledError ? Kind::Timeout
        : error == E::SslHandshakeFailedError                               ? Kind::Tls
                                                                            : Kind::Network;
    e.message = describeNetworkError(error);
    e.neverSent = error == E::ConnectionRefusedError || error == E::HostNotFoundError;
    if (error == E::UnknownNetworkError && detail.contains(QLatin1String("unreachable"), Qt::CaseInsensitive))
        e.message = QStringLiteral("host unreachable");
    else if (e.message == QLatin1String("network error") && !detail.isEmpty())
        e.message = QStringLiteral("network error: %1").arg(detail);
    return e;
}

} // namespace fleet
