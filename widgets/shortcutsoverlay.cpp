#include "shortcutsoverlay.h"

#include "actionregistry.h"
#include "theme.h"

#include <QEvent>
#include <QKeyEvent>
#include <QPainter>

namespace fleet {

ShortcutsOverlay::ShortcutsOverlay(QWidget *parent)
    : QWidget(parent)
{
    setFocusPolicy(Qt::StrongFocus);
    setAccessibleName(tr("Keyboard shortcuts"));
    hide();
    parent->installEventFilter(this);
}

void ShortcutsOverlay::setShortcuts(const QList<QPair<QString, QString>> &keysAndWhat)
{
    m_items = keysAndWhat;
    QStringList lines;
    for (const auto &[keys, what] : keysAndWhat)
        lines << keys + QStringLiteral(": ") + what;
    setAccessibleDescription(lines.join(QLatin1Char('\n')));
    update();
}

void ShortcutsOverlay::setRegistry(ActionRegistry *registry)
{
    m_registry = registry;
    reload();
}

void ShortcutsOverlay::reload()
{
    QList<QPair<QString, QString>> items;
    if (m_registry) {
        for (const ActionRegistry::HelpEntry &e : m_registry->helpEntries())
            items.append({ e.keys,
                e.disabledReason.isEmpty() ? e.what : tr("%1 (unavailable: %2)").arg(e.what, e.disabledReason) });
    }
    setShortcuts(items);
}

void ShortcutsOverlay::toggle()
{
    if (isVisible()) {
        hide();
        return;
    }
    reload();
    setGeometry(parentWidget()->rect());
    raise();
    show();
    setFocus(Qt::OtherFocusReason);
}

bool ShortcutsOverlay::eventFilter(QObject *watched, QEvent *event)
{
    if (watched == parentWidget() && event->type() == QEvent::Resize && isVisible())
        setGeometry(parentWidget()->rect());
    return QWidget::eventFilter(watched, event);
}

void ShortcutsOverlay::paintEvent(QPaintEvent *)
{
    const Theme &t = Theme::current();
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing);
    QColor veil = t.window;
    veil.setAlpha(215);
    p.fillRect(rect(), veil);

    QFont keyFont = font();
    keyFont.setBold(true);
    QFont title = keyFont;
    title.setPointSizeF(keyFont.pointSizeF() * 1.4);
    const QFontMetricsF km(keyFont);
    const QFontMetricsF fm(font());
    double keyWidth = 0, whatWidth = 0;
    for (const auto &[keys, what] : std::as_const(m_items)) {
        keyWidth = std::max(keyWidth, km.horizontalAdvance(keys));
        whatWidth = std::max(whatWidth, fm.horizontalAdvance(what));
    }
    const double row = fm.height() * 1.6;
    const double w = keyWidth + whatWidth + 80;
    const double h = row * double(m_items.size()) + 90;
    const QRectF box((width() - w) / 2, std::max(10.0, (height() - h) / 2), w, h);
    p.setPen(QPen(t.grid, 1));
    p.setBrush(t.surfaceRaised);
    p.drawRoundedRect(box, 8, 8);
    p.setFont(title);
    p.setPen(t.text);
    p.drawText(QRectF(box.left(), box.top() + 12, box.width(), 30), Qt::AlignCenter, tr("Keyboard shortcuts"));
    double y = box.top() + 54;
    for (const auto &[keys, what] : std::as_const(m_items)) {
        p.setFont(keyFont);
        p.setPen(t.accent);
        p.drawText(QRectF(box.left() + 30, y, keyWidth, row), Qt::AlignVCenter | Qt::AlignRight, keys);
        p.setFont(font());
        p.setPen(t.text);
        p.drawText(QRectF(box.left() + 50 + keyWidth, y, whatWidth + 10, row), Qt::AlignVCenter | Qt::AlignLeft, what);
        y += row;
    }
    p.setPen(t.mutedText);
    p.drawText(
        QRectF(box.left(), box.bottom() - 30, box.width(), 24), Qt::AlignCenter, tr("Press any key or click to close"));
}

void ShortcutsOverlay::keyPressEvent(QKeyEvent *event)
{
    event->accept();
    hide();
}

void ShortcutsOverlay::mousePressEvent(QMouseEvent *)
{
    hide();
}

} // namespace fleet
