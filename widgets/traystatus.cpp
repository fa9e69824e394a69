#include "traystatus.h"

#include "fleetsession.h"
#include "healthmonitor.h"
#include "regionmodel.h"
#include "regionorder.h"

#include <QCoreApplication>
#include <QIcon>
#include <QMenu>
#include <QPainter>
#include <QPixmap>
#include <QSystemTrayIcon>

namespace fleet {

TrayStatus::TrayStatus(FleetSession *session, QMenu *menu, QObject *parent)
    : QObject(parent)
    , m_session(session)
{
    connect(session->healthMonitor(), &HealthMonitor::evaluated, this, &TrayStatus::update);
    connect(session->healthMonitor(), &HealthMonitor::verdictChanged, this, &TrayStatus::update);
    if (QSystemTrayIcon::isSystemTrayAvailable()) {
        m_tray = new QSystemTrayIcon(this);
        m_tray->setContextMenu(menu);
        connect(m_tray, &QSystemTrayIcon::activated, this, [this](QSystemTrayIcon::ActivationReason reason) {
            if (reason == QSystemTrayIcon::Trigger || reason == QSystemTrayIcon::DoubleClick)
                Q_EMIT activated();
        });
        m_tray->show();
    }
    update();
}

TrayStatus::~TrayStatus() = default;

QIcon TrayStatus::iconFor(Verdict verdict, const Theme &theme)
{
    QIcon icon;
    for (int side : { 16, 22, 32, 48, 64 }) {
        QPixmap pixmap(side, side);
        pixmap.fill(Qt::transparent);
        QPainter p(&pixmap);
        p.setRenderHint(QPainter::Antialiasing);
        paintVerdictGlyph(&p, QRectF(1, 1, side - 2, side - 2), verdict, theme);
        p.end();
        icon.addPixmap(pixmap);
    }
    return icon;
}

void TrayStatus::setVisible(bool visible)
{
    if (m_tray)
        m_tray->setVisible(visible);
}

void TrayStatus::update()
{
    if (!m_session)
        return;
    // The session's order, worst first: the icon shows the first region's verdict, the lines follow the order.
    const RegionOrder *model = m_session->regionOrder();
    // The verdicts from their one judge, the monitor.
    const HealthMonitor *monitor = m_session->healthMonitor();
    const auto idAt = [model](int row) { return model->index(row, 0).data(RegionModel::IdRole).toString(); };
    const Verdict worst = model->rowCount() ? monitor->verdict(idAt(0)) : Verdict::NoData;
    QStringList lines;
    for (int r = 0; r < model->rowCount(); ++r) {
        const QString id = idAt(r);
        const Verdict v = monitor->verdict(id);
        if (v == Verdict::Degraded || v == Verdict::Down)
            lines.append(QCoreApplication::translate("fleet::TrayStatus", "%1: %2, %3")
                             .arg(model->index(r, 0).data(RegionModel::NameRole).toString(), verdictLabel(v).toLower(),
                                 monitor->reason(id)));
    }
    QString tip = QCoreApplication::translate("fleet::TrayStatus", "Fleet Console · %1").arg(m_session->profile().name);
    if (!m_session->isLive())
        tip += QCoreApplication::translate("fleet::TrayStatus", "\nnot live: %1").arg(m_session->status().reason);
    tip += lines.isEmpty() ? QCoreApplication::translate("fleet::TrayStatus", "\nno region in trouble")
                           : QLatin1Char('\n') + lines.join(QLatin1Char('\n'));
    const bool iconChanged = worst != m_worst || (m_tray && m_tray->icon().isNull());
    m_worst = worst;
    m_toolTip = tip;
    if (!m_tray)
        return;
    if (iconChanged)
        m_tray->setIcon(iconFor(worst, Theme::current()));
    // Region names and reasons are the server's: escaped, so markup in them shows as typed.
    m_tray->setToolTip(QStringLiteral("<p>") + tip.toHtmlEscaped().replace(QLatin1Char('\n'), QStringLiteral("<br>"))
        + QStringLiteral("</p>"));
}

} // namespace fleet
