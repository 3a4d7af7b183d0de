import { FirstCopies } from './first-copies';

describe('FirstCopies', () => {
  it('finds later copies of text and binary ids, scope by scope', () => {
    const copies = new FirstCopies();
    expect(copies.firstOf({ scope: 't', id: 'a' }, 0)).toBeUndefined();
    expect(copies.firstOf({ scope: 't', id: Buffer.from('a') }, 1)).toBeUndefined();
    expect(copies.firstOf({ scope: 'u', id: 'a' }, 2)).toBeUndefined();
    expect(copies.firstOf({ scope: 't', id: 'a' }, 3)).toBe(0);
    expect(copies.firstOf({ scope: 't', id: Buffer.from('a') }, 4)).toBe(1);
    expect(copies.firstOf({ scope: 'u', id: 'a' }, 5)).toBe(2);
    // A text id that looks like another key's text is still its own id.
    expect(copies.firstOf({ scope: 't', id: 'u\u0000sa' }, 6)).toBeUndefined();
  });
});
