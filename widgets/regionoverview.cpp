#include "regionoverview.h"

#include "fleetstore.h"
#include "regionmodel.h"
#include "theme.h"

#include <QAbstractItemView>
#include <QCoreApplication>
#include <QEvent>
#include <QHelpEvent>
#include <QIdentityProxyModel>
#include <QListView>
#include <QPainter>
#include <QPainterPath>
#include <QSortFilterProxyModel>
#include <QStyledItemDelegate>
#include <QTimer>
#include <QToolTip>
#include <QVBoxLayout>

#include <cmath>

namespace fleet {

namespace {

// The session's order (RegionOrder), with the words a screen reader says for each tile and its tooltip.
class TileWords : public QIdentityProxyModel
{
public:
    using QIdentityProxyModel::QIdentityProxyModel;

    QHash<QString, QString> nextSteps; // region id -> "Next: ..." (RegionOverview::setNextSteps)
    QHash<QString, QString> alerts; // region id -> its alerts in words (RegionOverview::setAlerts)

    QVariant data(const QModelIndex &index, int role) const override
    {
        if (role == RegionModel::VerdictReasonRole) {
            // The team's own alerts for the region follow the console's reason, on the tile and in its tooltip.
            const QString reason = QIdentityProxyModel::data(index, role).toString();
            const QString alert = alerts.value(index.data(RegionModel::IdRole).toString());
            if (alert.isEmpty())
                return reason;
            return reason.isEmpty() ? tr("Alerts: %1").arg(alert) : tr("%1 · alerts: %2").arg(reason, alert);
        }
        if (role == Qt::AccessibleTextRole || role == Qt::ToolTipRole) {
            const QString name = index.data(RegionModel::NameRole).toString();
            const Verdict v = Verdict(index.data(RegionModel::VerdictRole).toInt());
            const QString reason = index.data(RegionModel::VerdictReasonRole).toString();
            QString text = reason.isEmpty() ? QStringLiteral("%1: %2").arg(name, verdictLabel(v))
                                            : QStringLiteral("%1: %2 — %3").arg(name, verdictLabel(v), reason);
            // The next steps with their keys, as the chart header offers them for the region in view.
            if (const QString next = nextSteps.value(index.data(RegionModel::IdRole).toString()); !next.isEmpty())
                text += QStringLiteral("\n") + next;
            // Figures the server sent that could not be used are shown as unknown, with what was wrong.
            if (const QString notes = index.data(RegionModel::ServerNotesRole).toString(); !notes.isEmpty())
                text += QStringLiteral("\n") + tr("Unknown (the server sent what cannot be): %1").arg(notes);
            // A tooltip string that looks like markup would be rendered as rich text: escape what the server sent.
            return role == Qt::ToolTipRole ? QString(QStringLiteral("<p>")
                       + text.toHtmlEscaped().replace(u'\n', QStringLiteral("<br>")) + QStringLiteral("</p>"))
                                           : text;
        }
        return QIdentityProxyModel::data(index, role);
    }
};

} // namespace

class RegionTileDelegate : public QStyledItemDelegate
{
public:
    RegionTileDelegate(FleetStore *store, QObject *parent)
        : QStyledItemDelegate(parent)
        , m_store(store)
    {
    }

    bool stale = false;
    Theme theme = Theme::current();

    QSize sizeHint(const QStyleOptionViewItem &option, const QModelIndex &) const override
    {
        const int line = option.fontMetrics.height();
        return QSize(340, line * 5 + 30);
    }

    void paint(QPainter *p, const QStyleOptionViewItem &option, const QModelIndex &index) const override
    {
        p->save();
        p->setRenderHint(QPainter::Antialiasing);
        const QRectF r = QRectF(option.rect).adjusted(4, 3, -4, -3);
        const Verdict verdict = Verdict(index.data(RegionModel::VerdictRole).toInt());
        const QColor vc = theme.verdictColor(verdict);
        const bool selected = option.state & QStyle::State_Selected;
        if (stale)
            p->setOpacity(0.55);
        p->setPen(selected ? QPen(theme.accent, 2) : QPen(theme.grid, 1));
        p->setBrush(theme.surfaceRaised);
        p->drawRoundedRect(r, 6, 6);
        // The verdict colour as a bar along the left edge, and a tint for anything not healthy.
        QPainterPath clip;
        clip.addRoundedRect(r, 6, 6);
        p->setClipPath(clip);
        p->fillRect(QRectF(r.left(), r.top(), 6, r.height()), vc);
        if (verdict == Verdict::Degraded || verdict == Verdict::Down) {
            QColor tint = vc;
            tint.setAlpha(28);
            p->fillRect(r, tint);
        }
        p->setClipping(false);

        const QFontMetricsF fm(option.font);
        const double line = fm.height();
        const double left = r.left() + 14;
        const double glyph = line * 1.2;
        paintVerdictGlyph(p, QRectF(left, r.top() + 6, glyph, glyph), verdict, theme);

        QFont bold = option.font;
        bold.setBold(true);
        QFont big = bold;
        big.setPointSizeF(bold.pointSizeF() * 1.1);
        const double textLeft = left + glyph + 8;
        const double right = r.right() - 10;
        // Header: verdict word on the right, region name elided before it. drawText: plain text, never markup.
        const QString verdictText = verdictLabel(verdict).toUpper();
        p->setFont(bold);
        const double vw = QFontMetricsF(bold).horizontalAdvance(verdictText);
        p->setPen(vc);
        p->drawText(QRectF(right - vw, r.top() + 6, vw, glyph), Qt::AlignVCenter | Qt::AlignRight, verdictText);
        p->setFont(big);
        p->setPen(theme.text);
        const QString name = index.data(RegionModel::NameRole).toString();
        const QString id = index.data(RegionModel::IdRole).toString();
        const QString title = name == id || name.isEmpty() ? id : QStringLiteral("%1  ·  %2").arg(name, id);
        p->drawText(QRectF(textLeft, r.top() + 6, right - vw - 8 - textLeft, glyph), Qt::AlignVCenter | Qt::AlignLeft,
            QFontMetricsF(big).elidedText(title, Qt::ElideRight, right - vw - 8 - textLeft));

        p->setFont(option.font);
        double y = r.top() + 6 + glyph + 2;
        QString reason = index.data(RegionModel::VerdictReasonRole).toString();
        if (stale)
            reason = QCoreApplication::translate("fleet::RegionOverview", "stale: %1").arg(reason);
        p->setPen(verdict == Verdict::Healthy && !stale ? theme.mutedText : theme.text);
        // The reason is what a person reads first: two lines before it is cut.
        const QRectF reasonBox(textLeft, y, right - textLeft, line * 2);
        QString shown = reason;
        if (fm.boundingRect(reasonBox, Qt::TextWordWrap, reason).height() > reasonBox.height() + 1)
            shown = fm.elidedText(reason, Qt::ElideRight, (right - textLeft) * 1.9);
        p->drawText(reasonBox, Qt::AlignTop | Qt::AlignLeft | Qt::TextWordWrap, shown);
        y += line * 2 + 2;

        const int busy = index.data(RegionModel::BusyWorkersRole).toInt();
        const int idle = index.data(RegionModel::IdleWorkersRole).toInt();
        const int offline = index.data(RegionModel::OfflineWorkersRole).toInt();
        const int prov = index.data(RegionModel::ProvisioningWorkersRole).toInt();
        const int draining = index.data(RegionModel::DrainingWorkersRole).toInt();
        QString workers = QCoreApplication::translate("fleet::RegionOverview", "%1 busy · %2 idle · %3 offline")
                              .arg(busy)
                              .arg(idle)
                              .arg(offline);
        if (prov)
            workers += QCoreApplication::translate("fleet::RegionOverview", " · %1 starting").arg(prov);
        if (draining)
            workers += QCoreApplication::translate("fleet::RegionOverview", " · %1 draining").arg(draining);
        p->setPen(theme.mutedText);
        p->drawText(QRectF(textLeft, y, right - textLeft, line), Qt::AlignVCenter | Qt::AlignLeft,
            fm.elidedText(workers, Qt::ElideRight, right - textLeft));
        y += line + 2;

        const double success = index.data(RegionModel::SuccessRateRole).toDouble();
        const QString successText = std::isnan(success)
            ? QCoreApplication::translate("fleet::RegionOverview", "success —")
            : QCoreApplication::translate("fleet::RegionOverview", "success %1 %").arg(success * 100, 0, 'f', 0);
        p->setPen(!std::isnan(success) && success < 0.85 ? vc : theme.text);
        p->setFont(bold);
        const double sw = QFontMetricsF(bold).horizontalAdvance(successText) + 12;
        p->drawText(QRectF(textLeft, y, sw, line), Qt::AlignVCenter | Qt::AlignLeft, successText);
        paintTrend(p, QRectF(textLeft + sw, y + 1, right - textLeft - sw, line - 2), id, vc);
        p->restore();
    }

    bool helpEvent(QHelpEvent *event, QAbstractItemView *view, const QStyleOptionViewItem &option,
        const QModelIndex &index) override
    {
        if (event->type() == QEvent::ToolTip && index.isValid()) {
            QToolTip::showText(event->globalPos(), index.data(Qt::ToolTipRole).toString(), view);
            return true;
        }
        return QStyledItemDelegate::helpEvent(event, view, option, index);
    }

private:
    // Failures per minute over the last 30 minutes, one point a minute, with a baseline.
    void paintTrend(QPainter *p, const QRectF &rect, const QString &region, const QColor &color) const
    {
        if (!m_store || rect.width() < 30)
            return;
        const HealthTimeline &h = m_store->history();
        const int idx = h.regionIndex(region);
        const qint64 now = h.latestSecond();
        if (idx < 0 || now == 0)
            return;
        thread_local std::vector<float> buf;
        h.series(idx, HealthTimeline::BuildsFailed, now - 1799, now, &buf);
        double values[30];
        double maxV = 1;
        for (int m = 0; m < 30; ++m) {
            double sum = 0;
            int n = 0;
            for (int s = m * 60; s < m * 60 + 60; ++s) {
                if (!std::isnan(buf[std::size_t(s)])) {
                    sum += double(buf[std::size_t(s)]);
                    ++n;
                }
            }
            values[m] = n ? sum * 60.0 / n : std::nan("");
            if (n)
                maxV = std::max(maxV, values[m]);
        }
        p->setPen(QPen(theme.grid, 1));
        p->drawLine(rect.bottomLeft(), rect.bottomRight());
        QPainterPath path;
        bool pen = false;
        for (int m = 0; m < 30; ++m) {
            if (std::isnan(values[m])) {
                pen = false;
                continue;
            }
            const QPointF pt(rect.left() + rect.width() * m / 29.0, rect.bottom() - rect.height() * values[m] / maxV);
            if (pen)
                path.lineTo(pt);
            else
                path.moveTo(pt);
            pen = true;
        }
        p->setPen(QPen(color, 1.5));
        p->setBrush(Qt::NoBrush);
        p->drawPath(path);
    }

    QPointer<FleetStore> m_store;
};

RegionOverview::RegionOverview(QAbstractItemModel *ordered, FleetStore *store, QWidget *parent)
    : QWidget(parent)
    , m_view(new QListView(this))
    , m_sorted(new TileWords(this))
    , m_delegate(new RegionTileDelegate(store, this))
{
    m_sorted->setSourceModel(ordered);
    m_view->setModel(m_sorted);
    m_view->setItemDelegate(m_delegate);
    m_view->setUniformItemSizes(true);
    m_view->setSelectionMode(QAbstractItemView::SingleSelection);
    m_view->setVerticalScrollMode(QAbstractItemView::ScrollPerPixel);
    m_view->setFrameShape(QFrame::NoFrame);
    m_view->setAccessibleName(tr("Regions, worst first"));
    m_view->setMouseTracking(true);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_view);
    connect(m_view->selectionModel(), &QItemSelectionModel::currentChanged, this, [this](const QModelIndex &current) {
        if (current.isValid())
            Q_EMIT regionSelected(
                current.data(RegionModel::IdRole).toString(), current.data(RegionModel::NameRole).toString());
    });
    // A stale or changing model repaints the trend lines too: a light timer rather than a signal per sample.
    auto *repaint = new QTimer(this);
    repaint->setInterval(1000);
    connect(repaint, &QTimer::timeout, m_view->viewport(), qOverload<>(&QWidget::update));
    repaint->start();
    setMinimumWidth(320);
}

QStringList RegionOverview::regionOrder() const
{
    QStringList ids;
    for (int r = 0; r < m_sorted->rowCount(); ++r)
        ids << m_sorted->index(r, 0).data(RegionModel::IdRole).toString();
    return ids;
}

QString RegionOverview::currentRegion() const
{
    return m_view->currentIndex().data(RegionModel::IdRole).toString();
}

void RegionOverview::selectRegion(const QString &id)
{
    for (int r = 0; r < m_sorted->rowCount(); ++r) {
        const QModelIndex i = m_sorted->index(r, 0);
        if (i.data(RegionModel::IdRole).toString() == id) {
            m_view->setCurrentIndex(i);
            return;
        }
    }
}

void RegionOverview::setNextSteps(const QString &region, const QString &text)
{
    auto *order = static_cast<TileWords *>(m_sorted);
    if (order->nextSteps.value(region) == text)
        return;
    order->nextSteps.clear(); // one region's at a time: the one in view
    if (!text.isEmpty())
        order->nextSteps.insert(region, text);
}

void RegionOverview::setAlerts(const QHash<QString, QString> &byRegion)
{
    auto *order = static_cast<TileWords *>(m_sorted);
    if (order->alerts == byRegion)
        return;
    order->alerts = byRegion;
    m_view->viewport()->update();
}

QString RegionOverview::tileText(const QString &region) const
{
    for (int row = 0; row < m_sorted->rowCount(); ++row) {
        const QModelIndex i = m_sorted->index(row, 0);
        if (i.data(RegionModel::IdRole).toString() == region)
            return i.data(Qt::AccessibleTextRole).toString();
    }
    return {};
}

void RegionOverview::setStale(bool stale)
{
    if (m_delegate->stale == stale)
        return;
    m_delegate->stale = stale;
    m_view->viewport()->update();
}

void RegionOverview::changeEvent(QEvent *event)
{
    QWidget::changeEvent(event);
    if (event->type() == QEvent::ApplicationPaletteChange)
        setTheme(Theme::current());
}

void RegionOverview::setTheme(const Theme &theme)
{
    m_delegate->theme = theme;
    m_view->viewport()->update();
}

} // namespace fleet
