#include "connectionindicator.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QPainter>

#include <QEvent>

namespace fleet {

ConnectionIndicator::ConnectionIndicator(QWidget *parent)
    : QWidget(parent)
    , m_label(new QLabel(this))
    , m_theme(Theme::current())
{
    m_label->setTextFormat(Qt::PlainText);
    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(18, 0, 4, 0);
    layout->addWidget(m_label);
    setAccessibleName(tr("Connection status"));
    m_tick.setObjectName(QStringLiteral("ConnectionIndicator tick"));
    m_tick.setInterval(500);
    connect(&m_tick, &QTimer::timeout, this, &ConnectionIndicator::refresh);
    m_tick.start();
    refresh();
}

void ConnectionIndicator::setConnection(FleetConnection *connection, const QString &host)
{
    m_connection = connection;
    m_host = host;
    if (connection)
        connect(connection, &FleetConnection::statusChanged, this, &ConnectionIndicator::refresh);
    refresh();
}

void ConnectionIndicator::changeEvent(QEvent *event)
{
    QWidget::changeEvent(event);
    if (event->type() == QEvent::ApplicationPaletteChange)
        setTheme(Theme::current());
}

void ConnectionIndicator::setTheme(const Theme &theme)
{
    m_theme = theme;
    refresh();
}

QString ConnectionIndicator::formatAge(qint64 ms)
{
    if (ms < 10'000)
        return tr("%1 s").arg(double(ms) / 1000.0, 0, 'f', 1);
    const qint64 s = ms / 1000;
    if (s < 60)
        return tr("%1 s").arg(s);
    if (s < 3600)
        return tr("%1 min %2 s").arg(s / 60).arg(s % 60);
    return tr("%1 h %2 min").arg(s / 3600).arg((s % 3600) / 60);
}

QString ConnectionIndicator::describe(const ConnectionStatus &status, const QString &host)
{
    const qint64 age = status.dataAgeMs();
    const QString last = age >= 0 ? tr("last data %1 ago").arg(formatAge(age)) : tr("no data yet");
    switch (status.state) {
    case ConnectionState::Live:
        return age >= 0 ? tr("Live · %1 · data %2 old").arg(host, formatAge(age)) : tr("Live · %1").arg(host);
    case ConnectionState::Connecting:
        return tr("Connecting to %1…").arg(host);
    case ConnectionState::Reconnecting: {
        const qint64 next = status.nextAttemptInMs();
        const QString when = next > 0 ? tr("next try in %1 s").arg((next + 999) / 1000) : tr("trying now");
        return tr("Reconnecting (attempt %1): %2 · %3 · %4")
            .arg(status.attempt)
            .arg(status.reason.isEmpty() ? tr("connection lost") : status.reason, when, last);
    }
    case ConnectionState::Offline:
        break;
    }
    return status.reason.isEmpty() ? tr("Offline · %1").arg(last) : tr("Offline: %1 · %2").arg(status.reason, last);
}

void ConnectionIndicator::refresh()
{
    ConnectionStatus status;
    if (m_connection)
        status = m_connection->status();
    const QString text = m_connection ? describe(status, m_host.isEmpty() ? tr("fleet API") : m_host)
                                      : tr("Not connected · File › Connect… (Ctrl+O)");
    m_label->setText(text);
    setToolTip(QStringLiteral("<p>") + text.toHtmlEscaped() + QStringLiteral("</p>"));
    switch (status.state) {
    case ConnectionState::Live:
        m_dot = m_theme.healthy;
        break;
    case ConnectionState::Connecting:
    case ConnectionState::Reconnecting:
        m_dot = m_theme.degraded;
        break;
    case ConnectionState::Offline:
        m_dot = m_theme.down;
        break;
    }
    const qint64 age = status.dataAgeMs();
    // Stale: there was data, and either the connection is not live or nothing new came for a while. Before the
    // first data the charts say "no data", which is true rather than stale.
    const bool stale = age >= 0 && (status.state != ConnectionState::Live || age > m_staleAfterMs);
    QString staleText;
    if (stale) {
        staleText = status.state == ConnectionState::Live
            ? tr("STALE · last data %1 ago").arg(formatAge(age))
            : tr("STALE · last data %1 ago · %2")
                  .arg(formatAge(age), status.state == ConnectionState::Offline ? tr("offline") : tr("reconnecting"));
    }
    if (stale != m_stale || staleText != m_staleText) {
        m_stale = stale;
        m_staleText = staleText;
        Q_EMIT staleChanged(stale, staleText);
    }
    update(); // the dot
}

QString ConnectionIndicator::text() const
{
    return m_label->text();
}

void ConnectionIndicator::paintEvent(QPaintEvent *event)
{
    QWidget::paintEvent(event);
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing);
    const double d = 10;
    const QRectF dot(4, (height() - d) / 2, d, d);
    p.setPen(Qt::NoPen);
    p.setBrush(m_dot);
    if (m_connection && m_connection->status().state == ConnectionState::Live) {
        p.drawEllipse(dot);
    } else if (m_connection && m_connection->status().state == ConnectionState::Offline) {
        p.drawRect(dot); // shape as well as colour
    } else {
        const QPointF tri[] = { QPointF(dot.center().x(), dot.top()), dot.bottomRight(), dot.bottomLeft() };
        p.drawPolygon(tri, 3);
    }
}

} // namespace fleet
