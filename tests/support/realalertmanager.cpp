#include "realalertmanager.h"

#include "isotime.h"

#include <QDateTime>
#include <QEventLoop>
#include <QFile>
#include <QJsonDocument>
#include <QNetworkReply>
#include <QStandardPaths>
#include <QTcpServer>
#include <QTimer>

#include <memory>

RealAlertmanager::RealAlertmanager()
{
    m_binary = QStandardPaths::findExecutable(QStringLiteral("prometheus-alertmanager"));
    if (m_binary.isEmpty())
        return;
    QTcpServer probe;
    probe.listen(QHostAddress::LocalHost, 0);
    m_port = probe.serverPort();
    probe.close();
    QFile config(m_dir.filePath(QStringLiteral("alertmanager.yml")));
    if (config.open(QIODevice::WriteOnly))
        config.write("route:\n  receiver: nobody\n  group_wait: 1s\nreceivers:\n  - name: nobody\n");
    config.close();
    m_process.setProcessChannelMode(QProcess::MergedChannels);
    m_process.start(m_binary,
        { QStringLiteral("--config.file=") + config.fileName(),
            QStringLiteral("--storage.path=") + m_dir.filePath(QStringLiteral("data")),
            QStringLiteral("--web.listen-address=127.0.0.1:%1").arg(m_port),
            QStringLiteral("--cluster.listen-address="), QStringLiteral("--log.level=warn") });
}

RealAlertmanager::~RealAlertmanager()
{
    m_process.kill();
    m_process.waitForFinished(5000);
}

QByteArray RealAlertmanager::request(const QByteArray &verb, const QString &path, const QByteArray &body)
{
    QNetworkRequest r(QUrl(url().toString() + path));
    r.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    std::unique_ptr<QNetworkReply> reply(m_nam.sendCustomRequest(r, verb, body));
    QEventLoop loop;
    QObject::connect(reply.get(), &QNetworkReply::finished, &loop, &QEventLoop::quit);
    QTimer::singleShot(10000, &loop, &QEventLoop::quit);
    loop.exec();
    return reply->isFinished() && reply->error() == QNetworkReply::NoError ? reply->readAll() : QByteArray();
}

QJsonArray RealAlertmanager::silences()
{
    return QJsonDocument::fromJson(request("GET", QStringLiteral("/api/v2/silences"))).array();
}

QJsonObject RealAlertmanager::silence(const QString &id)
{
    const QJsonArray all = silences();
    for (const QJsonValue &v : all)
        if (v[QLatin1String("id")].toString() == id)
            return v.toObject();
    return {};
}

bool RealAlertmanager::fire(const QJsonObject &labels, const QString &summary, int forSeconds)
{
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    const QJsonArray alerts { QJsonObject { { QStringLiteral("labels"), labels },
        { QStringLiteral("annotations"), QJsonObject { { QStringLiteral("summary"), summary } } },
        { QStringLiteral("startsAt"), fleet::formatIsoUtc(now - 60000) },
        { QStringLiteral("endsAt"), fleet::formatIsoUtc(now + forSeconds * 1000LL) } } };
    // Alertmanager answers 200 with an empty body.
    QNetworkRequest r(QUrl(url().toString() + QStringLiteral("/api/v2/alerts")));
    r.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    std::unique_ptr<QNetworkReply> reply(m_nam.post(r, QJsonDocument(alerts).toJson(QJsonDocument::Compact)));
    QEventLoop loop;
    QObject::connect(reply.get(), &QNetworkReply::finished, &loop, &QEventLoop::quit);
    QTimer::singleShot(10000, &loop, &QEventLoop::quit);
    loop.exec();
    return reply->isFinished() && reply->error() == QNetworkReply::NoError;
}
