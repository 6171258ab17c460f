// An ESLint rule that enforces eslint/layers.js: every import of a file under src/ is resolved
// and checked against its layer's row. One table, so the rules cannot drift from the docs.
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { layers } from './layers.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const byLength = Object.entries(layers).sort(([, a], [, b]) => b.path.length - a.path.length)

/** The layer of a repository-relative path: the longest matching prefix. */
export function layerOf(relative) {
  const posix = relative.split(path.sep).join('/')
  for (const [name, layer] of byLength) {
    if (posix === layer.path || posix.startsWith(`${layer.path}/`)) return name
  }
  return undefined
}

const packageAllowed = (spec, packages) =>
  packages.some((p) =>
    p.endsWith('/') || p.endsWith(':')
      ? spec.startsWith(p)
      : spec === p || spec.startsWith(`${p}/`),
  )

/** @type {import('eslint').Rule.RuleModule} */
export const layerRule = {
  meta: {
    type: 'problem',
    docs: { description: 'imports follow the layer table in eslint/layers.js' },
    schema: [],
  },
  create(context) {
    const file = path.relative(root, context.filename)
    const from = layerOf(file)
    if (!from) return {}
    const row = layers[from]
    const check = (node, spec) => {
      if (typeof spec !== 'string') return
      if (spec.startsWith('.')) {
        const target = path.relative(root, path.resolve(path.dirname(context.filename), spec))
        const to = layerOf(target)
        if (to === undefined || to === from || row.imports.includes(to)) return
        context.report({
          node,
          message: `${from} (${row.path}) may not import ${to} (${target}): ${row.why}. Allowed: ${[from, ...row.imports].join(', ')} (eslint/layers.js).`,
        })
      } else if (!packageAllowed(spec, row.packages)) {
        context.report({
          node,
          message: `${from} (${row.path}) may not import the package "${spec}": ${row.why}. Allowed packages: ${row.packages.join(', ') || 'none'} (eslint/layers.js).`,
        })
      }
    }
    return {
      ImportDeclaration: (node) => check(node, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source.value),
      ExportAllDeclaration: (node) => check(node, node.source.value),
      ImportExpression: (node) => node.source.type === 'Literal' && check(node, node.source.value),
    }
  },
}

export const layersPlugin = { rules: { imports: layerRule } }
