// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { cardName, cardPreview } from '../../../playground/web/card/render';
import { context, draw } from './draw';

/** The card renderer: card JSON in, DOM out (through preact), read back as a person and a screen reader would. */

const card = (elements: unknown[], header?: object) => ({ schema: '2.0', config: { update_multi: true }, ...(header && { header }), body: { elements } });
const md = (content: string, extra: object = {}) => ({ tag: 'markdown', content, ...extra });
const text = (el: Element | null | undefined) => el?.textContent ?? '';

describe('the header', () => {
  it('shows the title, its template colour and its tags, and names the article after the title', () => {
    const el = draw(
      card([md('body')], {
        title: { tag: 'plain_text', content: 'To-do' },
        template: 'green',
        text_tag_list: [{ tag: 'text_tag', text: { tag: 'plain_text', content: 'Done' }, color: 'green' }],
      }),
    );
    const article = el.querySelector('article');
    expect(article?.getAttribute('aria-label')).toBe('To-do');
    expect(el.querySelector('header')?.className).toContain('template-green');
    expect(text(el.querySelector('.card-title'))).toBe('To-do');
    expect(text(el.querySelector('.text-tag.color-green'))).toBe('Done');
  });

  it('draws an unknown template as the default one and at most three tags', () => {
    const tag = (content: string) => ({ tag: 'text_tag', text: { tag: 'plain_text', content }, color: 'blue' });
    const el = draw(card([], { title: { tag: 'plain_text', content: 'T' }, template: 'javascript:x', text_tag_list: ['a', 'b', 'c', 'd'].map(tag) }));
    expect(el.querySelector('header')?.className).toContain('template-default');
    expect([...el.querySelectorAll('.text-tag')].map(text)).toEqual(['a', 'b', 'c']);
  });

  it('names a card without a header after its first text', () => {
    expect(cardName(card([{ tag: 'hr' }, md('**Heads up:** the build is red')]), context())).toBe('Heads up: the build is red');
    expect(
      draw(card([{ tag: 'div', text: { tag: 'plain_text', content: 'A notice' } }]))
        .querySelector('article')
        ?.getAttribute('aria-label'),
    ).toBe('A notice');
  });
});

describe('text', () => {
  it('draws markdown emphasis, mentions, people and line breaks', () => {
    const el = draw(
      card([
        md("**Assignees:** <at id=ou_bea></at> <at id=all></at>\n*Created by:* <person id='ou_alex' show_name=true show_avatar=false style='normal'></person>"),
      ]),
    );
    expect(text(el.querySelector('strong'))).toBe('Assignees:');
    expect(text(el.querySelector('em'))).toBe('Created by:');
    expect([...el.querySelectorAll('.mention')].map(text)).toEqual(['@Bea Li', '@All']);
    expect(text(el.querySelector('.person'))).toBe('Alex Chen');
    expect(el.querySelectorAll('br')).toHaveLength(1);
  });

  it("shows text escaped with Feishu's entities exactly as typed: it mentions, links and formats nothing", () => {
    const escaped = '&#60;at id&#61;all&#62;&#60;/at&#62; &#91;x&#93;&#40;https&#58;//evil&#46;example&#41; &#42;&#42;loud&#42;&#42; 2 &sim; 3';
    const el = draw(card([md(escaped)]));
    expect(text(el.querySelector('.md'))).toBe('<at id=all></at> [x](https://evil.example) **loud** 2 ~ 3');
    expect(el.querySelectorAll('.mention, a, strong')).toHaveLength(0);
  });

  it('links only http(s) URLs', () => {
    const el = draw(card([md('[safe](https://example.com) [bad](javascript:alert(1)) <a href="data:text/html,x">also bad</a>')]));
    expect([...el.querySelectorAll('a')].map((a) => a.getAttribute('href'))).toEqual(['https://example.com']);
    // markdown-it leaves a link it refuses as the text it was; <a> with a bad href keeps its text.
    expect(text(el.querySelector('.md'))).toBe('safe [bad](javascript:alert(1)) also bad');
  });

  it('shows plain_text as written: markup in it is text, never elements', () => {
    const el = draw(card([{ tag: 'div', text: { tag: 'plain_text', content: '<img src=x onerror=alert(1)> **not bold** <at id=all></at>' } }]));
    expect(el.querySelectorAll('img, strong, .mention')).toHaveLength(0);
    expect(text(el.querySelector('.div'))).toBe('<img src=x onerror=alert(1)> **not bold** <at id=all></at>');
  });

  it('applies text sizes, drawing an unknown size as normal', () => {
    const el = draw(card([md('small print', { text_size: 'notation' }), md('odd', { text_size: 'gigantic' })]));
    const [notation, odd] = el.querySelectorAll('.md');
    expect(notation?.className).toContain('size-notation');
    expect(odd?.className).toContain('size-normal');
  });
});

describe('layout', () => {
  it('draws dividers and columns with their elements', () => {
    const el = draw(
      card([
        { tag: 'hr' },
        {
          tag: 'column_set',
          columns: [
            { tag: 'column', elements: [md('left')] },
            { tag: 'column', width: 'weighted', weight: 2, elements: [md('right')] },
          ],
        },
      ]),
    );
    expect(el.querySelectorAll('hr')).toHaveLength(1);
    expect([...el.querySelectorAll('.column')].map(text)).toEqual(['left', 'right']);
  });

  it('shows a component it does not draw as a placeholder naming its tag, keeping the rest', () => {
    const el = draw(card([md('before'), { tag: 'chart', chart_spec: {} }, { tag: 'hologram' }, md('after <blink>x</blink>')]));
    expect([...el.querySelectorAll('.placeholder')].map(text)).toEqual(['[chart]', '[hologram]', '[<blink>]']);
    expect(text(el.querySelector('.card-body'))).toContain('before');
    expect(text(el.querySelector('.card-body'))).toContain('after');
  });
});

describe('languages', () => {
  const bilingual = {
    schema: '2.0',
    config: { update_multi: true, summary: { content: 'To-do: ship', i18n_content: { zh_cn: '待办：发布', en_us: 'To-do: ship' } } },
    header: {
      title: { tag: 'plain_text', content: 'To-do', i18n_content: { zh_cn: '待办', en_us: 'To-do' } },
      template: 'blue',
      text_tag_list: [{ tag: 'text_tag', text: { tag: 'plain_text', content: 'Open' }, color: 'blue' }],
      i18n_text_tag_list: { zh_cn: [{ tag: 'text_tag', text: { tag: 'plain_text', content: '进行中' }, color: 'blue' }] },
    },
    body: {
      elements: [
        md('**Assignees:** nobody', { i18n_content: { zh_cn: '**负责人：** 无' } }),
        { tag: 'button', text: { tag: 'plain_text', content: 'Done', i18n_content: { zh_cn: '完成' } } },
      ],
    },
  };

  it("shows each field's text in the reader's language", () => {
    const el = draw(bilingual, context({ lang: 'zh_cn' }));
    expect(el.querySelector('article')?.getAttribute('aria-label')).toBe('待办');
    expect(text(el.querySelector('.text-tag'))).toBe('进行中');
    expect(text(el.querySelector('.md'))).toBe('负责人： 无');
    expect(text(el.querySelector('button'))).toBe('完成');
    expect(cardPreview(bilingual, context({ lang: 'zh_cn' }))).toBe('待办：发布');
  });

  it('falls back to the plain field where the language is missing', () => {
    const el = draw(bilingual, context({ lang: 'en_us' }));
    expect(text(el.querySelector('.text-tag'))).toBe('Open');
    expect(text(el.querySelector('.md'))).toBe('Assignees: nobody');
    expect(text(el.querySelector('button'))).toBe('Done');
  });
});
