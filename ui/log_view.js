// A job log that stays fast however long it gets: lines are kept in an array and only the
// ones in view (plus a margin) are in the DOM, drawn once per animation frame however many
// arrive. While the view is scrolled to the bottom it follows new lines, like `tail -f`.
import { el, frameScheduler } from './dom.js';

const LINE_HEIGHT = 18;     // px; style.css gives .log-line the same height
const OVERSCAN = 30;        // lines drawn above and below the visible ones
const MAX_LINES = 500000;   // held in the page; older ones are left to the download

export class LogView {
  constructor() {
    this.lines = [];
    this.dropped = 0;  // lines let go from the front to stay under MAX_LINES
    this.following = true;
    this.notice = el('p.log-notice', { hidden: true });
    this.spacer = el('div.log-spacer');
    this.window = el('div.log-window');
    this.count = el('span.log-count', { id: 'log-count' }, '0 lines');
    this.viewport = el('div.log', { id: 'log', tabindex: '0', role: 'log', 'aria-label': 'Job log' },
      this.spacer, this.window);
    this.element = el('div.log-box', {}, this.notice, this.viewport);
    this.schedule = frameScheduler(() => this.draw());
    window.addEventListener('resize', this.schedule);  // more or fewer lines fit
    this.viewport.addEventListener('scroll', () => {
      const { scrollTop, clientHeight, scrollHeight } = this.viewport;
      this.following = scrollTop + clientHeight >= scrollHeight - LINE_HEIGHT * 2;
      this.schedule();
    });
  }

  /** Adds lines at the end (a batch of any size costs one redraw). */
  append(lines) {
    for (const line of lines) this.lines.push(line);
    // Trimmed a tenth at a time: one splice per 50,000 lines, not one per line.
    if (this.lines.length > MAX_LINES + MAX_LINES / 10) {
      const extra = this.lines.length - MAX_LINES;
      this.lines.splice(0, extra);
      this.dropped += extra;
    }
    this.schedule();
  }

  /** Stops listening to the window (when the page is left). */
  destroy() {
    window.removeEventListener('resize', this.schedule);
  }

  /** How many lines the log has had, including those let go. */
  get total() {
    return this.dropped + this.lines.length;
  }

  draw() {
    const count = this.lines.length;
    this.count.textContent = `${this.total.toLocaleString('en')} lines`;
    this.notice.hidden = this.dropped === 0;
    this.notice.textContent = `${this.dropped.toLocaleString('en')} earlier lines are not shown here: download the log to see them.`;
    this.spacer.style.height = `${count * LINE_HEIGHT}px`;
    if (this.following) this.viewport.scrollTop = this.viewport.scrollHeight;
    const first = Math.max(0, Math.floor(this.viewport.scrollTop / LINE_HEIGHT) - OVERSCAN);
    const visible = Math.ceil(this.viewport.clientHeight / LINE_HEIGHT) + 2 * OVERSCAN;
    const last = Math.min(count, first + visible);
    this.window.style.transform = `translateY(${first * LINE_HEIGHT}px)`;
    const nodes = [];
    for (let i = first; i < last; i++) {
      const line = this.lines[i];
      const node = el('div.log-line', { dataset: { index: String(this.dropped + i) } }, line);
      if (line.startsWith('dray: ')) node.classList.add('dray-line');
      nodes.push(node);
    }
    this.window.replaceChildren(...nodes);
  }
}
