import { unique } from '@qiwei/testing';

/** Request bodies for departments: `aDepartment().named('销售部').under(5).build()`. */
export class DepartmentBuilder {
  private body: { name: string; parentId: number; order?: number; id?: number } = {
    name: unique('部门'),
    parentId: 1,
  };

  named(name: string): this {
    this.body.name = name;
    return this;
  }
  under(parentId: number): this {
    this.body.parentId = parentId;
    return this;
  }
  withOrder(order: number): this {
    this.body.order = order;
    return this;
  }
  withId(id: number): this {
    this.body.id = id;
    return this;
  }
  build() {
    return { ...this.body };
  }
}

export const aDepartment = () => new DepartmentBuilder();
